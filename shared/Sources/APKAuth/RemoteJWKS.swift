import APKSupport
package import Foundation
package import Logging

/// Fetches a JWKS document. ``HTTPJWKSFetcher`` in production; tests may inject their own.
package protocol JWKSFetcher: Sendable {
    /// The document's bytes; throws on transport errors and non-200 answers. `trustedCA`: PEM of the CA(s) an https
    /// server's certificate must chain to, instead of the system's trust store.
    func fetchJWKS(from url: String, trustedCA: String?) async throws -> [UInt8]
}

extension JWKSFetcher {
    /// ``fetchJWKS(from:trustedCA:)`` with the system's trust store.
    package func fetchJWKS(from url: String) async throws -> [UInt8] {
        try await fetchJWKS(from: url, trustedCA: nil)
    }
}

/// The keys of an external token issuer, fetched from its JWKS URL and cached.
///
/// The cache is refreshed when older than `cacheTTL` and when a token names an unknown `kid`; all fetches
/// (successful or not) are at least `minRefetchInterval` apart, so forged `kid`s cannot make us hammer the IdP.
/// When a refresh fails the previous keys stay in use.
package actor RemoteJWKS: IssuerKeySource {
    package let url: String
    private let fetcher: any JWKSFetcher
    private let cacheTTL: Double
    private let minRefetchInterval: Double
    private let now: @Sendable () -> Date
    private let logger: Logger
    private var cached: [(kid: String?, key: VerificationKey)]?
    private var fetchedAt: Date?
    private var lastAttempt: Date?

    package init(
        url: String, fetcher: any JWKSFetcher, cacheTTL: Duration, minRefetchInterval: Duration,
        now: @escaping @Sendable () -> Date = Date.init, logger: Logger
    ) {
        self.url = url
        self.fetcher = fetcher
        self.cacheTTL = cacheTTL.seconds
        self.minRefetchInterval = minRefetchInterval.seconds
        self.now = now
        self.logger = logger
    }

    package func keys(kid: String?) async -> [VerificationKey] {
        if cached == nil || fetchedAt.map({ now().timeIntervalSince($0) >= cacheTTL }) ?? true {
            await refresh()
        }
        var found = matching(kid)
        if found.isEmpty, kid != nil {
            await refresh()
            found = matching(kid)
        }
        return found
    }

    private func matching(_ kid: String?) -> [VerificationKey] {
        (cached ?? []).filter { kid == nil || $0.kid == kid }.map(\.key)
    }

    /// Fetches the JWKS unless the last attempt was less than `minRefetchInterval` ago.
    private func refresh() async {
        let started = now()
        if let lastAttempt, started.timeIntervalSince(lastAttempt) < minRefetchInterval { return }
        lastAttempt = started  // set before suspending: concurrent callers do not fetch again
        do {
            let bytes = try await fetcher.fetchJWKS(from: url)
            guard let keys = VerificationKey.keys(fromJWKS: bytes) else {
                logger.warning("JWKS is not a JSON key set", metadata: ["auth.jwks.url": .string(url)])
                return
            }
            cached = keys
            fetchedAt = now()
            logger.debug("JWKS fetched", metadata: ["auth.jwks.url": .string(url), "auth.jwks.keys": .stringConvertible(keys.count)])
        } catch {
            logger.warning(
                "JWKS fetch failed",
                metadata: ["auth.jwks.url": .string(url), "error.description": .string(String(describing: error))])
        }
    }
}
