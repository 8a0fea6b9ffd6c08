package import APKAuth
package import APKAuthPlan
package import Logging
import ServiceLifecycle
import Synchronization

/// The keys the enforcer trusts, fetched from each issuer's JWKS and refreshed in the background, so that a `Check`
/// reads a ready ``TrustedKeys`` snapshot and never waits on the network.
///
/// The refresh policy is Envoy's `jwt_authn` with `async_fetch` (what the native mode runs), so both modes accept
/// the same tokens at every moment: every source is fetched at start and then every `cacheTTL`; a failed fetch keeps
/// the previous keys and is retried after `retryAfterFailure`; an unknown `kid` does **not** trigger a fetch (a new
/// signing key must be published one cache period before it is used). Ready once the built-in issuer's keys are in.
package final class KeyRing: Service, Sendable {
    /// One JWKS URL and whose keys it holds.
    package struct Source: Sendable, Hashable {
        package enum Role: Sendable, Hashable {
            /// The deployer's issuer: its access tokens and the internal keys it signs.
            case builtIn(issuer: String, internalKeyIssuer: String)
            case external(issuer: String)
            /// An issuer of API keys (never of access tokens).
            case apiKey(issuer: String)
        }

        package var url: String
        package var role: Role

        package init(url: String, role: Role) {
            self.url = url
            self.role = role
        }
    }

    private let sources: [Source]
    private let fetcher: any JWKSFetcher
    private let cacheTTL: Duration
    private let retryAfterFailure: Duration
    private let logger: Logger
    /// Keys per source index (absent until its first successful fetch).
    private let fetched = Mutex<(keys: [Int: [TrustedKeys.Entry]], generation: UInt64)>(([:], 0))
    private let snapshot: Mutex<TrustedKeys>

    package init(
        sources: [Source], fetcher: any JWKSFetcher, cacheTTL: Duration, retryAfterFailure: Duration = .seconds(2),
        logger: Logger
    ) {
        self.sources = sources
        self.fetcher = fetcher
        self.cacheTTL = cacheTTL
        self.retryAfterFailure = retryAfterFailure
        self.logger = logger
        snapshot = Mutex(Self.assemble(sources: sources, fetched: [:], generation: 0))
    }

    /// The keys to decide with now.
    package var keys: TrustedKeys { snapshot.withLock { $0 } }

    /// True once the built-in issuer's JWKS has been fetched (external issuers' tokens fail until theirs is).
    package var isReady: Bool {
        fetched.withLock { fetched in
            sources.indices.contains { index in
                if case .builtIn = sources[index].role { return fetched.keys[index] != nil }
                return false
            }
        }
    }

    /// Fetches source `index` once; true on success. A failure keeps what was fetched before.
    @discardableResult
    package func refresh(_ index: Int) async -> Bool {
        let source = sources[index]
        do {
            let bytes = try await fetcher.fetchJWKS(from: source.url)
            guard let keys = VerificationKey.keys(fromJWKS: bytes) else {
                logger.warning("JWKS is not a JSON key set; keeping the previous keys", metadata: ["auth.jwks.url": .string(source.url)])
                return false
            }
            let entries = keys.map { TrustedKeys.Entry(kid: $0.kid, key: $0.key) }
            let assembled = fetched.withLock { fetched in
                fetched.keys[index] = entries
                fetched.generation += 1  // what older keys verified is forgotten (VerificationCache)
                return Self.assemble(sources: sources, fetched: fetched.keys, generation: fetched.generation)
            }
            snapshot.withLock { $0 = assembled }
            logger.debug("JWKS fetched", metadata: ["auth.jwks.url": .string(source.url), "auth.jwks.keys": "\(entries.count)"])
            return true
        } catch {
            logger.warning(
                "JWKS fetch failed; keeping the previous keys",
                metadata: ["auth.jwks.url": .string(source.url), "error.description": .string(String(describing: error))])
            return false
        }
    }

    /// Fetches every source now, then each again when its period (or retry delay) is over, until shutdown.
    package func run() async throws {
        await cancelWhenGracefulShutdown {
            let clock = ContinuousClock()
            var due = Array(repeating: clock.now, count: self.sources.count)
            while !Task.isCancelled {
                let now = clock.now
                for index in self.sources.indices where due[index] <= now {
                    let succeeded = await self.refresh(index)
                    due[index] = clock.now + (succeeded ? self.cacheTTL : self.retryAfterFailure)
                }
                guard let next = due.min() else { return }
                try? await Task.sleep(until: next, clock: clock)
            }
        }
    }

    static func assemble(sources: [Source], fetched: [Int: [TrustedKeys.Entry]], generation: UInt64) -> TrustedKeys {
        var keys = TrustedKeys(accessTokenIssuers: [:], internalKeyIssuer: "", internalKeys: [], generation: generation)
        for (index, source) in sources.enumerated() {
            let entries = fetched[index] ?? []
            switch source.role {
            case .builtIn(let issuer, let internalKeyIssuer):
                keys.accessTokenIssuers[issuer] = entries
                keys.internalKeyIssuer = internalKeyIssuer
                keys.internalKeys = entries
            case .external(let issuer):
                keys.accessTokenIssuers[issuer] = entries
            case .apiKey(let issuer):
                keys.apiKeyIssuers[issuer] = entries
            }
        }
        return keys
    }
}
