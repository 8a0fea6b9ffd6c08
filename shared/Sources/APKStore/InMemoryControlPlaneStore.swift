package import Foundation

/// A ``ControlPlaneStore`` in memory with the semantics of ``PostgresControlPlaneStore`` (for unit tests).
package actor InMemoryControlPlaneStore: ControlPlaneStore {
    private var clients: [String: OAuthClient] = [:]
    private var keys: [SigningKey] = []
    private var internalKeys: [String: InternalKeyRecord] = [:]
    private var history: [DeployHistoryEntry] = []

    package init() {}

    package func client(id: String) -> OAuthClient? { clients[id] }

    package func upsertClient(_ client: OAuthClient) { clients[client.id] = client }

    package func clients(organization: String) -> [OAuthClient] {
        clients.values.filter { $0.organization == organization }.sorted { a, b in
            a.name != b.name ? Array(a.name.utf8).lexicographicallyPrecedes(b.name.utf8)
                : Array(a.id.utf8).lexicographicallyPrecedes(b.id.utf8)
        }
    }

    package func createClient(_ client: OAuthClient) -> Bool {
        guard clients[client.id] == nil else { return false }
        clients[client.id] = client
        return true
    }

    package func updateClient(_ client: OAuthClient) -> OAuthClient? {
        guard var stored = clients[client.id], stored.organization == client.organization else { return nil }
        stored.name = client.name
        stored.grantTypes = client.grantTypes
        stored.redirectURIs = client.redirectURIs
        stored.allowedScopes = client.allowedScopes
        clients[client.id] = stored
        return stored
    }

    package func replaceClientSecret(id: String, organization: String, secretHash: String) -> OAuthClient? {
        guard clients[id]?.organization == organization else { return nil }
        clients[id]?.secretHash = secretHash
        return clients[id]
    }

    package func upgradeClientSecretHash(id: String, from current: String, to replacement: String) -> Bool {
        guard clients[id]?.secretHash == current else { return false }
        clients[id]?.secretHash = replacement
        return true
    }

    package func deleteClient(id: String, organization: String) -> Bool {
        guard clients[id]?.organization == organization else { return false }
        clients[id] = nil
        return true
    }

    package func signingKeys(now: Date) -> [SigningKey] {
        keys.filter { $0.retireAfter.map { $0 > now } ?? true }.sorted(by: SigningKey.newestFirst)
    }

    package func addSigningKey(_ key: SigningKey, retiringPreviousAfter: Date) {
        for index in keys.indices where keys[index].retireAfter == nil { keys[index].retireAfter = retiringPreviousAfter }
        keys.removeAll { $0.kid == key.kid }
        keys.append(key)
    }

    package func allSigningKeys() -> [SigningKey] { keys.sorted(by: SigningKey.newestFirst) }

    package func replaceSigningKeyPrivateKey(kid: String, from current: String, to replacement: String) -> Bool {
        guard let index = keys.firstIndex(where: { $0.kid == kid }), keys[index].privateKeyPEM == current else { return false }
        keys[index].privateKeyPEM = replacement
        return true
    }

    package func recordInternalKey(_ key: InternalKeyRecord) { internalKeys[key.jti] = key }

    package func revokeInternalKey(jti: String) -> Bool {
        guard internalKeys[jti] != nil else { return false }
        internalKeys[jti]?.revoked = true
        return true
    }

    package func internalKey(jti: String) -> InternalKeyRecord? { internalKeys[jti] }

    package func recordDeploy(_ entry: DeployHistoryEntry) { history.append(entry) }

    package func deployHistory(apiID: String?, limit: Int) -> [DeployHistoryEntry] {
        Array(history.reversed().filter { apiID == nil || $0.apiID == apiID }.prefix(max(limit, 0)))
    }
}

extension SigningKey {
    /// JWKS order: the active key (no `retireAfter`) first, then newest first; `kid` breaks ties.
    static func newestFirst(_ a: SigningKey, _ b: SigningKey) -> Bool {
        if (a.retireAfter == nil) != (b.retireAfter == nil) { return a.retireAfter == nil }
        if a.createdAt != b.createdAt { return a.createdAt > b.createdAt }
        return a.kid > b.kid
    }
}
