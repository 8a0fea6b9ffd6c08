package import APKStore

/// DEVELOPMENT FIXTURE — never enable in production.
///
/// The reference quick-start OAuth client (contract §10.1), seeded only when `SEED_DEV_CLIENT=true` (the local
/// stack sets it) so that the documented curl commands work. Its secret is public knowledge; nothing else in APK
/// ships a default secret.
package enum DevelopmentClient {
    package static let clientID = "45f1c5c8-a92e-11ed-afa1-0242ac120002"
    /// Public by design (the reference's documented quick-start secret).
    package static let clientSecret = "4fbd62ec-a92e-11ed-afa1-0242ac120002"
    package static let organization = "default"
    /// Any scope, as the reference's issuer grants what is asked (quick-start APIs may name their own scopes), and
    /// the client-management scope, which the wildcard never covers (so that the local stack can manage clients).
    package static let allowedScopes = [TokenIssuer.anyScope, DeployerScope.admin]
    /// The fixture's earlier lists (the first quick-start scopes, then the wildcard before client management
    /// existed): a seed finding exactly one of them upgrades it, so an existing local database gets `apk:admin`.
    static let previousAllowedScopes: [[String]] = [
        ["apk:api_create", "apk:api_view", "apk:subscribe", "default"], [TokenIssuer.anyScope],
    ]

    /// The fixture client with `secretHash` (a hash of ``clientSecret``).
    package static func client(secretHash: String) -> OAuthClient {
        OAuthClient(
            id: clientID, secretHash: secretHash, name: "apk-quick-start (development fixture)",
            organization: organization, allowedScopes: allowedScopes,
            grantTypes: ["client_credentials", "refresh_token", "authorization_code"])
    }

    /// Inserts the fixture unless a client with its id exists (an operator's edits are kept, except that a fixture
    /// still holding the previous fixture's exact scope list gets the current one). True when inserted.
    @discardableResult
    package static func seed(into store: any ControlPlaneStore, secrets: ClientSecretVerifier) async throws -> Bool {
        guard var existing = try await store.client(id: clientID) else {
            try await store.upsertClient(client(secretHash: try await secrets.hash(clientSecret)))
            return true
        }
        if previousAllowedScopes.contains(existing.allowedScopes) {
            existing.allowedScopes = allowedScopes
            _ = try await store.updateClient(existing)
        }
        return false
    }
}
