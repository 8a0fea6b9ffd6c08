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
/// **Published before used.** Gateways cache the JWKS (Envoy's `jwt_authn` refreshes it every cache period and never
/// on an unknown `kid`), so a new key is only *published* at first and signs nothing until it has been in the JWKS
/// for ``Settings/publishLead`` (longer than any gateway's cache period); meanwhile the previous key keeps signing.
/// Automatic rotation therefore publishes the successor `publishLead` before the active key reaches `maxAge`. Only
/// the very first key signs at once (no gateway can have cached a JWKS without it), and ``rotate(immediately:)``
/// for a compromised key.
///
/// After a rotation the previous key stays published (JWKS, and accepted by ``TokenVerifier``) until every token it
/// signed has expired: the store's `retireAfter` is set to now + ``Settings/publishLead`` + ``Settings/retireWindow``. Keys are cached for
/// ``Settings/cacheTTL``; a token naming an unknown `kid` re-reads the store (at most once per
/// ``Settings/minRefreshInterval``), so keys rotated by another replica are picked up. Failures are never cached:
/// the next call asks the store again.
///
/// **Encrypted at rest.** Private keys are stored sealed by ``SigningKeySealer`` (AES-256-GCM under the KEK) and
/// opened only to build the signer; ``sealStoredKeys()`` (start-up) seals plaintext rows of older databases and
/// re-seals rows of a previous KEK, and fails when a stored key cannot be opened.
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
        /// How long a new key is published before it signs: more than the gateways' JWKS cache period
        /// (the adapter's and the enforcer's `AUTH_JWKS_CACHE_TTL`, 5 minutes by default).
        package var publishLead: Duration = .seconds(360)

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
    private let sealer: SigningKeySealer
    private let now: @Sendable () -> Date
    private let logger: Logger
    private var cache: (keys: [PublishedKey], privateKeyPEMs: [String: String], loadedAt: Date)?
    private var signer: RS256Signer?
    private var lastForcedRefresh: Date?

    package init(
        store: any ControlPlaneStore, settings: Settings = Settings(), sealer: SigningKeySealer,
        now: @escaping @Sendable () -> Date = Date.init, logger: Logger
    ) {
        self.store = store
        self.settings = settings
        self.sealer = sealer
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

    /// The signer of the active key: the newest key published at least ``Settings/publishLead`` ago (the only key, at
    /// first). Creates the first key, and publishes the successor of a key about to reach ``Settings/maxAge``.
    package func activeSigner() async throws(StoreError) -> RS256Signer {
        var keys = try await publishedKeys()
        // The first key signs at once (the fallback below picks it while it is the only key).
        guard !keys.isEmpty else { return try await createKey(activeAt: nil) }
        let current = now()
        let lead = settings.publishLead.seconds
        // Newest first: the newest key old enough to be in every gateway's JWKS, else (only young keys: the first key
        // and perhaps its successor) the oldest one.
        var active = keys.first { current.timeIntervalSince($0.createdAt) >= lead } ?? keys[keys.count - 1]
        if active.kid == keys[0].kid, current.timeIntervalSince(active.createdAt) >= settings.maxAge.seconds - lead {
            logger.info(
                "publishing the next signing key",
                metadata: ["apk.key.id": .string(active.kid), "apk.key.reason": "max-age", "apk.key.active.in": "\(settings.publishLead)"])
            _ = try await createKey(activeAt: nil)
            keys = try await publishedKeys()
            active = keys.first { current.timeIntervalSince($0.createdAt) >= lead } ?? active
        }
        if let signer, signer.keyID == active.kid { return signer }
        guard let stored = cache?.privateKeyPEMs[active.kid], let pem = try? sealer.open(stored, kid: active.kid).pem,
            let privateKey = try? _RSA.Signing.PrivateKey(pemRepresentation: pem)
        else {
            throw .corrupt("the private key of signing key \(active.kid) cannot be read")
        }
        let loaded = RS256Signer(keyID: active.kid, privateKey: privateKey)
        signer = loaded
        return loaded
    }

    /// Publishes a new key, which signs once it has been published for ``Settings/publishLead`` (`immediately`: at
    /// once — for a compromised key: gateways reject its tokens until they fetch the JWKS again). The previous keys
    /// stay published until everything they may still sign has expired. Returns the new key's `kid`.
    @discardableResult
    package func rotate(immediately: Bool = false) async throws(StoreError) -> String {
        try await createKey(activeAt: immediately ? now() : nil).keyID
    }

    /// Stores a new key; `activeAt` non-nil: it signs from now on (the first key, or an immediate rotation).
    private func createKey(activeAt: Date?) async throws(StoreError) -> RS256Signer {
        let privateKey: _RSA.Signing.PrivateKey
        do {
            privateKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        } catch {
            throw .failed("cannot generate an RSA key")
        }
        guard let kid = privateKey.publicKey.thumbprint else { throw .failed("cannot compute the key id") }
        // An immediately active key is dated back by the lead, so that it is "old enough" at once (its maximum age
        // is then reached a lead earlier).
        let created = activeAt.map { $0.addingTimeInterval(-settings.publishLead.seconds) } ?? now()
        let sealed: String
        do {
            sealed = try sealer.seal(privateKey.pkcs8PEMRepresentation, kid: kid)
        } catch {
            throw .failed("cannot encrypt the new signing key")
        }
        let key = SigningKey(
            kid: kid, algorithm: "RS256", privateKeyPEM: sealed,
            publicKeyPEM: privateKey.publicKey.pemRepresentation, createdAt: created, retireAfter: nil)
        // The previous key may sign until the new one is old enough, and its tokens then live for `retireWindow`.
        let retire = now().addingTimeInterval(settings.publishLead.seconds + settings.retireWindow.seconds)
        try await store.addSigningKey(key, retiringPreviousAfter: retire)
        logger.notice(
            "new signing key", metadata: ["apk.key.id": .string(kid), "apk.key.signs": activeAt == nil ? "after the publish lead" : "now"])
        let newSigner = RS256Signer(keyID: kid, privateKey: privateKey)
        if activeAt != nil { signer = newSigner }
        _ = try? await reload()  // the key is stored; a failed re-read only delays publishing it
        return newSigner
    }

    /// Start-up: opens every stored private key (retired ones too) and seals with the current KEK each one that is not
    /// (plaintext rows of older databases, rows of a previous KEK), one compare-and-set write per key. Throws
    /// ``SigningKeySealer/Failure`` (kid and KEK id, never key material) when a stored key cannot be opened: the
    /// deployer must not start then. Returns how many keys were re-sealed.
    @discardableResult
    package func sealStoredKeys() async throws -> Int {
        var resealed = 0
        for key in try await store.allSigningKeys() {
            let opened = try sealer.open(key.privateKeyPEM, kid: key.kid)
            guard opened.needsResealing else { continue }
            let sealed = try sealer.seal(opened.pem, kid: key.kid)
            if try await store.replaceSigningKeyPrivateKey(kid: key.kid, from: key.privateKeyPEM, to: sealed) {
                resealed += 1
                logger.notice(
                    "signing key encrypted with the current KEK",
                    metadata: [
                        "apk.key.id": .string(key.kid),
                        "apk.kek.previous": .string(SigningKeySealer.kekID(of: key.privateKeyPEM) ?? "plaintext"),
                        "apk.kek.id": .string(sealer.current?.id ?? "none"),
                    ])
            }
        }
        if resealed > 0 { cache = nil }
        return resealed
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
        let pems = Dictionary(stored.map { ($0.kid, $0.privateKeyPEM) }, uniquingKeysWith: { first, _ in first })
        cache = (keys, pems, now())
        return keys
    }
}
