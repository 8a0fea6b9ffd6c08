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

    /// An organization's `TokenIssuer` as APK discovery delivers it: its keys come from a JWKS URL (fetched on the
    /// same schedule as the gateway's issuers) or from a certificate.
    package struct OrganizationIssuer: Sendable, Hashable {
        package enum Keys: Sendable, Hashable {
            /// `trustedCA`: PEM of the CA an https JWKS server's certificate chains to (nil: the system's).
            case jwks(url: String, trustedCA: String?)
            case certificate(pem: String)
        }

        /// ``PlanIssuer/id``: `<organization>/<name>`.
        package var id: String
        package var keys: Keys

        package init(id: String, keys: Keys) {
            self.id = id
            self.keys = keys
        }
    }

    /// The organizations' issuers: definition, keys (absent until fetched) and when each is fetched next.
    private struct Organizations {
        var issuers: [String: OrganizationIssuer] = [:]
        var keys: [String: [TrustedKeys.Entry]] = [:]
        var due: [String: ContinuousClock.Instant] = [:]
    }

    private let sources: [Source]
    private let organizations = Mutex(Organizations())
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
        guard let entries = await fetch(sources[index].url) else { return false }
        fetched.withLock { fetched in
            fetched.keys[index] = entries
            fetched.generation += 1  // what older keys verified is forgotten (VerificationCache)
        }
        reassemble()
        return true
    }

    /// The keys at a JWKS URL; nil (logged) when the fetch fails or the document is not a key set.
    private func fetch(_ url: String, trustedCA: String? = nil) async -> [TrustedKeys.Entry]? {
        do {
            let bytes = try await fetcher.fetchJWKS(from: url, trustedCA: trustedCA)
            guard let keys = VerificationKey.keys(fromJWKS: bytes) else {
                logger.warning("JWKS is not a JSON key set; keeping the previous keys", metadata: ["auth.jwks.url": .string(url)])
                return nil
            }
            logger.debug("JWKS fetched", metadata: ["auth.jwks.url": .string(url), "auth.jwks.keys": "\(keys.count)"])
            return keys.map { TrustedKeys.Entry(kid: $0.kid, key: $0.key) }
        } catch {
            logger.warning(
                "JWKS fetch failed; keeping the previous keys",
                metadata: ["auth.jwks.url": .string(url), "error.description": .string(String(describing: error))])
            return nil
        }
    }

    /// Replaces the organizations' issuers with the set APK discovery delivered: keys of new or changed JWKS URLs are
    /// fetched now (concurrently, before this returns, so a route that names a new issuer finds its keys); removed
    /// issuers' keys are forgotten; certificates are read at once.
    package func setOrganizationIssuers(_ issuers: [OrganizationIssuer]) async {
        let clock = ContinuousClock()
        let toFetch: [OrganizationIssuer] = organizations.withLock { state in
            let wanted = Dictionary(issuers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            var fetchNow: [OrganizationIssuer] = []
            for id in state.issuers.keys where wanted[id] == nil {
                state.issuers[id] = nil
                state.keys[id] = nil
                state.due[id] = nil
            }
            for (id, issuer) in wanted where state.issuers[id] != issuer {
                state.issuers[id] = issuer
                state.keys[id] = nil
                switch issuer.keys {
                case .certificate(let pem):
                    // Checked by ``IssuerDiscovery`` (an unusable certificate never gets here).
                    state.keys[id] = (VerificationKey.keys(fromPEM: pem) ?? []).map { TrustedKeys.Entry(kid: nil, key: $0) }
                    state.due[id] = nil
                case .jwks:
                    fetchNow.append(issuer)
                    state.due[id] = clock.now + retryAfterFailure
                }
            }
            return fetchNow
        }
        fetched.withLock { $0.generation += 1 }
        reassemble()
        await withTaskGroup(of: Void.self) { group in
            for issuer in toFetch { group.addTask { await self.refreshOrganization(issuer) } }
        }
    }

    /// Fetches one organization issuer's JWKS (if it is still configured the same way).
    private func refreshOrganization(_ issuer: OrganizationIssuer) async {
        guard case .jwks(let url, let trustedCA) = issuer.keys else { return }
        let entries = await fetch(url, trustedCA: trustedCA)
        let clock = ContinuousClock()
        let id = issuer.id
        let stored = organizations.withLock { state -> Bool in
            guard state.issuers[id] == issuer else { return false }
            if let entries { state.keys[id] = entries }
            state.due[id] = clock.now + (entries == nil ? retryAfterFailure : cacheTTL)
            return entries != nil
        }
        guard stored else { return }
        fetched.withLock { $0.generation += 1 }
        reassemble()
    }

    /// Publishes the keys of every source and organization issuer as the next ``keys`` snapshot.
    private func reassemble() {
        let organizationKeys = organizations.withLock { $0.keys }
        let assembled = fetched.withLock { fetched in
            var keys = Self.assemble(sources: sources, fetched: fetched.keys, generation: fetched.generation)
            keys.tokenIssuers = organizationKeys
            return keys
        }
        snapshot.withLock { $0 = assembled }
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
                let organizationsDue = self.organizations.withLock { state in
                    state.due.compactMap { id, when in when <= now ? state.issuers[id] : nil }
                }
                for issuer in organizationsDue { await self.refreshOrganization(issuer) }
                // Organization issuers come and go with discovery: look again at least every second.
                let next = min(due.min() ?? clock.now + .seconds(1), clock.now + .seconds(1))
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
