package import APKModel
package import APKStore
import CryptoExtras
package import Foundation
package import Logging
package import APKAuth
import APKSupport

/// The built-in issuer's RSA signing keys: created on first use, kept in the ``ControlPlaneStore``, rotated on
/// request or when the active key is older than ``Settings/maxAge``.
///
/// After a rotation the previous key stays published (JWKS, and accepted by ``TokenVerifier``) until every token it
/// signed has expired: the store's `retireAfter` is set to now + ``Settings/retireWindow``. Keys are cached for
/// ``Settings/cacheTTL``; a token naming an unknown `kid` re-reads the store (at most once per
/// ``Settings/minRefreshInterval``), so keys rotated by another replica are picked up. Failures are never cached:
/// the next call asks the store again.
package actor SigningKeyManager: IssuerKeySource {
    package struct Settings: Sendable, Hashable {
        /// Rotate automatically when the active key is this old.
        package var maxAge: Duration = .seconds(30 * 86_400)
        /// How long a retired key stays published: the longest lifetime of anything it signs.
        package var retireWindow: Duration = .seconds(86_400)
        /// How long keys read from the store are reused.
        package var cacheTTL: Duration = .seconds(60)
        /// Least time between two store reads caused by unknown `kid`s.
        package var minRefreshInterval: Duration = .seconds(5)

        package init() {}
    }

    /// One published key, parsed.
    package struct PublishedKey: Sendable {
        package var kid: String
        package var createdAt: Date
        package var retireAfter: Date?
        package var jwk: JSONValue
        let publicKey: _RSA.Signing.PublicKey
    }

    private let store: any ControlPlaneStore
    private let settings: Settings
    private let now: @Sendable () -> Date
    private let logger: Logger
    private var cache: (keys: [PublishedKey], privateKeyPEM: String?, loadedAt: Date)?
    private var signer: RS256Signer?
    private var lastForcedRefresh: Date?

    package init(
        store: any ControlPlaneStore, settings: Settings = Settings(), now: @escaping @Sendable () -> Date = Date.init,
        logger: Logger
    ) {
        self.store = store
        self.settings = settings
        self.now = now
        self.logger = logger
    }

    /// Keys to publish and to verify with, newest (active) first.
    package func publishedKeys() async throws(StoreError) -> [PublishedKey] {
        if let cache, now().timeIntervalSince(cache.loadedAt) < settings.cacheTTL.seconds { return cache.keys }
        return try await reload()
    }

    /// ``IssuerKeySource``: the keys matching `kid` (all when nil); an unknown `kid` re-reads the store once.
    package func keys(kid: String?) async throws(StoreError) -> [VerificationKey] {
        var keys = try await publishedKeys()
        if let kid, !keys.contains(where: { $0.kid == kid }) {
            let current = now()
            if lastForcedRefresh.map({ current.timeIntervalSince($0) >= settings.minRefreshInterval.seconds }) ?? true {
                lastForcedRefresh = current
                keys = try await reload()
            }
        }
        return keys.filter { kid == nil || $0.kid == kid }.map { .rs256($0.publicKey) }
    }

    /// The signer of the active key, creating the first key or rotating an expired one as needed.
    package func activeSigner() async throws(StoreError) -> RS256Signer {
        let keys = try await publishedKeys()
        guard let active = keys.first,
            now().timeIntervalSince(active.createdAt) < settings.maxAge.seconds
        else {
            if let active = keys.first {
                logger.info("rotating the signing key", metadata: ["apk.key.id": .string(active.kid), "apk.key.reason": "max-age"])
            }
            return try await rotateReturningSigner()
        }
        if let signer, signer.keyID == active.kid { return signer }
        guard let pem = cache?.privateKeyPEM, let privateKey = try? _RSA.Signing.PrivateKey(pemRepresentation: pem) else {
            throw .corrupt("the private key of signing key \(active.kid) cannot be read")
        }
        let loaded = RS256Signer(keyID: active.kid, privateKey: privateKey)
        signer = loaded
        return loaded
    }

    /// Creates a new active key now; the previous one stays published for ``Settings/retireWindow``.
    /// Returns the new key's `kid`.
    @discardableResult
    package func rotate() async throws(StoreError) -> String {
        try await rotateReturningSigner().keyID
    }

    private func rotateReturningSigner() async throws(StoreError) -> RS256Signer {
        let privateKey: _RSA.Signing.PrivateKey
        do {
            privateKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        } catch {
            throw .failed("cannot generate an RSA key")
        }
        guard let kid = privateKey.publicKey.thumbprint else { throw .failed("cannot compute the key id") }
        let created = now()
        let key = SigningKey(
            kid: kid, algorithm: "RS256", privateKeyPEM: privateKey.pkcs8PEMRepresentation,
            publicKeyPEM: privateKey.publicKey.pemRepresentation, createdAt: created, retireAfter: nil)
        try await store.addSigningKey(key, retiringPreviousAfter: created.addingTimeInterval(settings.retireWindow.seconds))
        logger.notice("new signing key", metadata: ["apk.key.id": .string(kid)])
        let newSigner = RS256Signer(keyID: kid, privateKey: privateKey)
        signer = newSigner
        _ = try? await reload()  // the key is stored; a failed re-read only delays publishing it
        return newSigner
    }

    private func reload() async throws(StoreError) -> [PublishedKey] {
        let stored = try await store.signingKeys(now: now())
        var keys: [PublishedKey] = []
        for key in stored where key.algorithm == "RS256" {
            guard let publicKey = try? _RSA.Signing.PublicKey(pemRepresentation: key.publicKeyPEM),
                let jwk = publicKey.jwk(kid: key.kid)
            else {
                logger.error("unreadable signing key skipped", metadata: ["apk.key.id": .string(key.kid)])
                continue
            }
            keys.append(
                PublishedKey(
                    kid: key.kid, createdAt: key.createdAt, retireAfter: key.retireAfter, jwk: jwk,
                    publicKey: publicKey))
        }
        let activePEM = stored.first { $0.kid == keys.first?.kid }?.privateKeyPEM
        cache = (keys, activePEM, now())
        return keys
    }
}
