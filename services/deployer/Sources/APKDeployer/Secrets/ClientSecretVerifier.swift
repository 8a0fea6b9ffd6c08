import Dispatch
package import Foundation
import Synchronization

/// Hashes and verifies client secrets for the token endpoint and client management (``ClientSecret``, PBKDF2).
///
/// One verification at 600,000 iterations costs a few hundred milliseconds of CPU, so the token endpoint would be a
/// CPU denial-of-service vector. Therefore:
/// - the derivation never runs on a NIO event loop or the Swift concurrency pool: it runs on a dedicated dispatch
///   queue, at most ``Settings/concurrency`` at once; at most ``Settings/maxWaiting`` callers wait for their turn and
///   further ones are refused at once (``Busy``, answered 503);
/// - correct credentials are remembered for ``Settings/cacheTTL`` (``VerifiedSecretCache``, at most
///   ``Settings/cacheSize`` entries), so repeated correct requests cost one HMAC instead.
package final class ClientSecretVerifier: Sendable {
    package struct Settings: Sendable, Hashable {
        /// PBKDF2 iterations of new hashes (and the least a stored hash may have before it is upgraded). The
        /// configuration never goes below ``ClientSecret/minimumIterations``; only tests set fewer, directly.
        package var iterations = ClientSecret.minimumIterations
        /// How long a verified credential is remembered.
        package var cacheTTL: Duration = .seconds(300)
        /// Most credentials remembered.
        package var cacheSize = 1024
        /// Most key derivations running at once.
        package var concurrency = 1
        /// Most callers waiting for a derivation; more are refused at once.
        package var maxWaiting = 32

        package init() {}
    }

    /// Too many derivations already waiting: the caller is refused (retryable).
    package struct Busy: Error, Sendable, Hashable, CustomStringConvertible {
        package var description: String { "too many client-secret verifications waiting" }
    }

    /// The outcome of a verification.
    package enum Outcome: Sendable, Hashable {
        case mismatch
        /// A match; `upgradedHash` is set when the stored hash should be replaced by it (legacy form or too few
        /// iterations). Store it, then call ``remember(secret:clientID:storedHash:)``.
        case match(upgradedHash: String?)
    }

    package let settings: Settings
    private let permits: KDFPermits
    private let cache: VerifiedSecretCache
    private let now: @Sendable () -> Date
    private let derivations = Atomic<Int>(0)
    private let queue = DispatchQueue(label: "apk.deployer.client-secret-kdf", qos: .userInitiated, attributes: .concurrent)

    package init(settings: Settings = Settings(), now: @escaping @Sendable () -> Date = Date.init) {
        self.settings = settings
        self.now = now
        permits = KDFPermits(permits: settings.concurrency, maxWaiting: settings.maxWaiting)
        cache = VerifiedSecretCache(ttl: settings.cacheTTL, capacity: settings.cacheSize)
    }

    /// A new hash of `secret` (registration, regeneration, seeding).
    package func hash(_ secret: String) async throws(Busy) -> String {
        let iterations = settings.iterations
        return try await derive { ClientSecret.hash(secret, iterations: iterations) }
    }

    /// Verifies `secret` of client `clientID` against its `storedHash`: from the cache when this credential was
    /// verified recently, else by key derivation (bounded, off the event loops).
    package func verify(_ secret: String, clientID: String, storedHash: String) async throws(Busy) -> Outcome {
        let entry = cache.entry(clientID: clientID, storedHash: storedHash, secret: secret)
        if cache.contains(entry, now: now()) { return .match(upgradedHash: nil) }
        let iterations = settings.iterations
        let outcome = try await derive { () -> Outcome in
            switch ClientSecret.verify(secret, against: storedHash, wantedIterations: iterations) {
            case .mismatch: .mismatch
            case .match(needsUpgrade: false): .match(upgradedHash: nil)
            case .match(needsUpgrade: true): .match(upgradedHash: ClientSecret.hash(secret, iterations: iterations))
            }
        }
        if case .match(upgradedHash: nil) = outcome { cache.insert(entry, now: now()) }
        return outcome
    }

    /// Remembers a credential verified by the caller (after storing an upgraded hash).
    package func remember(secret: String, clientID: String, storedHash: String) {
        cache.insert(cache.entry(clientID: clientID, storedHash: storedHash, secret: secret), now: now())
    }

    /// Credentials remembered (tests).
    package var cachedCount: Int { cache.count }
    /// Key derivations run so far (hashes and uncached verifications; tests).
    package var derivationCount: Int { derivations.load(ordering: .relaxed) }

    /// Runs `work` on the derivation queue once a permit is free.
    private func derive<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws(Busy) -> T {
        guard await permits.acquire() else { throw Busy() }
        defer { permits.release() }
        derivations.add(1, ordering: .relaxed)
        return await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }
}
