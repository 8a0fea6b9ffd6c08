package import Foundation

/// Control-plane records other than CRs: OAuth clients, token-signing keys, issued internal keys, deploy history.
/// Implemented by ``PostgresControlPlaneStore`` and ``InMemoryControlPlaneStore``.
package protocol ControlPlaneStore: Sendable {
    // MARK: OAuth clients (secrets are stored hashed; see ``OAuthClient/secretHash``)
    func client(id: String) async throws(StoreError) -> OAuthClient?
    /// Inserts or replaces a client.
    func upsertClient(_ client: OAuthClient) async throws(StoreError)
    /// The clients of one organization, ordered by name, then id (byte order).
    func clients(organization: String) async throws(StoreError) -> [OAuthClient]
    /// Inserts a new client; false, and nothing written, when a client with its id exists.
    func createClient(_ client: OAuthClient) async throws(StoreError) -> Bool
    /// Replaces name, grant types, redirect URIs and allowed scopes of the client `client.id` of `client.organization`
    /// (its secret hash is kept), atomically; the stored client afterwards, nil when that organization has no such client.
    func updateClient(_ client: OAuthClient) async throws(StoreError) -> OAuthClient?
    /// Replaces the secret hash of a client of `organization` (the old secret stops working at once); the stored
    /// client afterwards, nil when that organization has no such client.
    func replaceClientSecret(id: String, organization: String, secretHash: String) async throws(StoreError) -> OAuthClient?
    /// Replaces the secret hash of client `id` by `replacement` only if it is still `current`, in one atomic write
    /// (the upgrade of an old hash format after a successful verification: a secret regenerated meanwhile is never
    /// overwritten); false when nothing was written.
    func upgradeClientSecretHash(id: String, from current: String, to replacement: String) async throws(StoreError) -> Bool
    /// Deletes a client of `organization`; false when that organization has no such client.
    func deleteClient(id: String, organization: String) async throws(StoreError) -> Bool

    // MARK: signing keys
    /// Keys not yet expired from the JWKS, newest first (the first is the active signing key).
    func signingKeys(now: Date) async throws(StoreError) -> [SigningKey]
    /// Every stored key, retired ones included, in JWKS order (start-up re-encryption of private keys).
    func allSigningKeys() async throws(StoreError) -> [SigningKey]
    /// Replaces the stored private key of `kid` by `replacement` only if it is still `current` (atomic compare-and-set:
    /// replicas re-encrypting at the same time never overwrite each other); false when nothing was written.
    func replaceSigningKeyPrivateKey(kid: String, from current: String, to replacement: String) async throws(StoreError) -> Bool
    /// Adds a key and makes it the active one; earlier keys stay published until their `retireAfter` date.
    /// `retireAfter` of the previous active key is set by the caller (token lifetime after rotation).
    func addSigningKey(_ key: SigningKey, retiringPreviousAfter: Date) async throws(StoreError)

    // MARK: internal keys (API keys minted by generate-key)
    func recordInternalKey(_ key: InternalKeyRecord) async throws(StoreError)
    /// Marks a key revoked; false when unknown.
    func revokeInternalKey(jti: String) async throws(StoreError) -> Bool
    func internalKey(jti: String) async throws(StoreError) -> InternalKeyRecord?

    // MARK: deploy history
    func recordDeploy(_ entry: DeployHistoryEntry) async throws(StoreError)
    /// Newest first.
    func deployHistory(apiID: String?, limit: Int) async throws(StoreError) -> [DeployHistoryEntry]
}

/// An OAuth2 client of the built-in token issuer.
package struct OAuthClient: Sendable, Hashable, Codable {
    package var id: String
    /// The secret's hash, never the secret itself: `pbkdf2-sha256$<iterations>$<salt-b64>$<hash-b64>` (the deployer's
    /// `ClientSecret`), or the legacy `sha256$<salt-hex>$<hex>` of older databases until its next successful use.
    package var secretHash: String
    package var name: String
    package var organization: String
    package var allowedScopes: [String]
    package var grantTypes: [String]
    /// Registered redirect URIs (client registration; unused by `client_credentials`).
    package var redirectURIs: [String]

    package init(
        id: String, secretHash: String, name: String, organization: String, allowedScopes: [String], grantTypes: [String],
        redirectURIs: [String] = []
    ) {
        self.id = id
        self.secretHash = secretHash
        self.name = name
        self.organization = organization
        self.allowedScopes = allowedScopes
        self.grantTypes = grantTypes
        self.redirectURIs = redirectURIs
    }
}

/// A token-signing key pair. The private key is PEM (PKCS#8) sealed by the deployer (AES-256-GCM under a key-encryption
/// key; plaintext PEM only in older databases or development); it never leaves the control plane.
package struct SigningKey: Sendable, Hashable {
    package var kid: String
    package var algorithm: String
    package var privateKeyPEM: String
    package var publicKeyPEM: String
    package var createdAt: Date
    /// When the key may leave the JWKS (nil while it is the active key).
    package var retireAfter: Date?

    package init(kid: String, algorithm: String, privateKeyPEM: String, publicKeyPEM: String, createdAt: Date, retireAfter: Date?) {
        self.kid = kid
        self.algorithm = algorithm
        self.privateKeyPEM = privateKeyPEM
        self.publicKeyPEM = publicKeyPEM
        self.createdAt = createdAt
        self.retireAfter = retireAfter
    }
}

/// An issued internal key (a JWT scoped to one API), kept so it can be listed and revoked.
package struct InternalKeyRecord: Sendable, Hashable {
    package var jti: String
    package var apiID: String
    package var organization: String
    package var subject: String
    package var issuedAt: Date
    package var expiresAt: Date
    package var revoked: Bool

    package init(jti: String, apiID: String, organization: String, subject: String, issuedAt: Date, expiresAt: Date, revoked: Bool = false) {
        self.jti = jti
        self.apiID = apiID
        self.organization = organization
        self.subject = subject
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.revoked = revoked
    }
}

/// One deploy or undeploy attempt.
package struct DeployHistoryEntry: Sendable, Hashable {
    package enum Action: String, Sendable, Hashable { case deploy, undeploy }

    package var apiID: String
    package var organization: String
    package var action: Action
    /// The caller (`sub` of the token).
    package var actor: String
    /// SHA-256 hex of the submitted apk-conf (empty for undeploy).
    package var apkConfDigest: String
    /// `success`, or the APK error code that ended it.
    package var result: String
    package var at: Date

    package init(apiID: String, organization: String, action: Action, actor: String, apkConfDigest: String, result: String, at: Date) {
        self.apiID = apiID
        self.organization = organization
        self.action = action
        self.actor = actor
        self.apkConfDigest = apkConfDigest
        self.result = result
        self.at = at
    }
}
