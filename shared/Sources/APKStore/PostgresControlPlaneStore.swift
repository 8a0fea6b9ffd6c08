package import Foundation
import Logging
import PostgresNIO

/// ``ControlPlaneStore`` on PostgreSQL (tables `oauth_clients`, `signing_keys`, `internal_keys`, `deploy_history`).
/// Timestamps are stored with microsecond precision. Every write is one statement (atomic); client changes match
/// on id and organization in the same statement, so a client of another organization is never touched.
package struct PostgresControlPlaneStore: ControlPlaneStore {
    let store: PostgresStore
    var logger: Logger { store.driverLogger }

    init(store: PostgresStore) { self.store = store }

    // MARK: OAuth clients

    private static let clientColumns = "id, secret_hash, name, organization, allowed_scopes, grant_types, redirect_uris"

    package func client(id: String) async throws(StoreError) -> OAuthClient? {
        let rows = try await fetch("read OAuth client") {
            "SELECT \(unescaped: Self.clientColumns) FROM oauth_clients WHERE id = \(id)"
        }
        return try rows.first.map { row throws(StoreError) in try Self.client(row, operation: "read OAuth client") }
    }

    package func upsertClient(_ client: OAuthClient) async throws(StoreError) {
        _ = try await fetch("write OAuth client") {
            """
            INSERT INTO oauth_clients (\(unescaped: Self.clientColumns))
            VALUES (\(client.id), \(client.secretHash), \(client.name), \(client.organization), \(client.allowedScopes),
                \(client.grantTypes), \(client.redirectURIs))
            ON CONFLICT (id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash, name = EXCLUDED.name,
                organization = EXCLUDED.organization, allowed_scopes = EXCLUDED.allowed_scopes,
                grant_types = EXCLUDED.grant_types, redirect_uris = EXCLUDED.redirect_uris, updated_at = now()
            """
        }
    }

    package func clients(organization: String) async throws(StoreError) -> [OAuthClient] {
        let rows = try await fetch("list OAuth clients") {
            """
            SELECT \(unescaped: Self.clientColumns) FROM oauth_clients WHERE organization = \(organization)
            ORDER BY name COLLATE "C", id COLLATE "C"
            """
        }
        var clients: [OAuthClient] = []
        for row in rows { clients.append(try Self.client(row, operation: "list OAuth clients")) }
        return clients
    }

    package func createClient(_ client: OAuthClient) async throws(StoreError) -> Bool {
        let rows = try await fetch("create OAuth client") {
            """
            INSERT INTO oauth_clients (\(unescaped: Self.clientColumns))
            VALUES (\(client.id), \(client.secretHash), \(client.name), \(client.organization), \(client.allowedScopes),
                \(client.grantTypes), \(client.redirectURIs))
            ON CONFLICT (id) DO NOTHING RETURNING id
            """
        }
        return !rows.isEmpty
    }

    package func updateClient(_ client: OAuthClient) async throws(StoreError) -> OAuthClient? {
        let rows = try await fetch("update OAuth client") {
            """
            UPDATE oauth_clients SET name = \(client.name), allowed_scopes = \(client.allowedScopes),
                grant_types = \(client.grantTypes), redirect_uris = \(client.redirectURIs), updated_at = now()
            WHERE id = \(client.id) AND organization = \(client.organization)
            RETURNING \(unescaped: Self.clientColumns)
            """
        }
        return try rows.first.map { row throws(StoreError) in try Self.client(row, operation: "update OAuth client") }
    }

    package func replaceClientSecret(id: String, organization: String, secretHash: String) async throws(StoreError) -> OAuthClient? {
        let rows = try await fetch("replace OAuth client secret") {
            """
            UPDATE oauth_clients SET secret_hash = \(secretHash), updated_at = now()
            WHERE id = \(id) AND organization = \(organization) RETURNING \(unescaped: Self.clientColumns)
            """
        }
        return try rows.first.map { row throws(StoreError) in try Self.client(row, operation: "replace OAuth client secret") }
    }

    package func upgradeClientSecretHash(id: String, from current: String, to replacement: String) async throws(StoreError) -> Bool {
        let rows = try await fetch("upgrade OAuth client secret hash") {
            """
            UPDATE oauth_clients SET secret_hash = \(replacement), updated_at = now()
            WHERE id = \(id) AND secret_hash = \(current) RETURNING id
            """
        }
        return !rows.isEmpty
    }

    package func deleteClient(id: String, organization: String) async throws(StoreError) -> Bool {
        let rows = try await fetch("delete OAuth client") {
            "DELETE FROM oauth_clients WHERE id = \(id) AND organization = \(organization) RETURNING id"
        }
        return !rows.isEmpty
    }

    private static func client(_ row: PostgresRow, operation: String) throws(StoreError) -> OAuthClient {
        do {
            let (id, hash, name, organization, scopes, grants, redirects) = try row.decode(
                (String, String, String, String, [String], [String], [String]).self)
            return OAuthClient(id: id, secretHash: hash, name: name, organization: organization, allowedScopes: scopes,
                               grantTypes: grants, redirectURIs: redirects)
        } catch {
            throw PostgresStore.storeError(error, operation: operation, timeout: .zero)
        }
    }

    // MARK: signing keys

    package func signingKeys(now: Date) async throws(StoreError) -> [SigningKey] {
        let rows = try await fetch("read signing keys") {
            """
            SELECT kid, algorithm, private_key_pem, public_key_pem, created_at, retire_after FROM signing_keys
            WHERE retire_after IS NULL OR retire_after > \(now)
            ORDER BY retire_after IS NULL DESC, created_at DESC, kid COLLATE "C" DESC
            """
        }
        return try Self.signingKeys(rows)
    }

    package func allSigningKeys() async throws(StoreError) -> [SigningKey] {
        let rows = try await fetch("read signing keys") {
            """
            SELECT kid, algorithm, private_key_pem, public_key_pem, created_at, retire_after FROM signing_keys
            ORDER BY retire_after IS NULL DESC, created_at DESC, kid COLLATE "C" DESC
            """
        }
        return try Self.signingKeys(rows)
    }

    package func replaceSigningKeyPrivateKey(kid: String, from current: String, to replacement: String) async throws(StoreError) -> Bool {
        let rows = try await fetch("re-encrypt signing key") {
            """
            UPDATE signing_keys SET private_key_pem = \(replacement)
            WHERE kid = \(kid) AND private_key_pem = \(current) RETURNING kid
            """
        }
        return !rows.isEmpty
    }

    private static func signingKeys(_ rows: [PostgresRow]) throws(StoreError) -> [SigningKey] {
        do {
            return try rows.map { row in
                let (kid, algorithm, privateKey, publicKey, created, retire) = try row.decode(
                    (String, String, String, String, Date, Date?).self)
                return SigningKey(kid: kid, algorithm: algorithm, privateKeyPEM: privateKey, publicKeyPEM: publicKey,
                                  createdAt: created, retireAfter: retire)
            }
        } catch {
            throw PostgresStore.storeError(error, operation: "read signing keys", timeout: .zero)
        }
    }

    package func addSigningKey(_ key: SigningKey, retiringPreviousAfter: Date) async throws(StoreError) {
        let logger = logger
        try await store.withTransaction("add signing key") { connection in
            try await connection.query(
                "UPDATE signing_keys SET retire_after = \(retiringPreviousAfter) WHERE retire_after IS NULL AND kid <> \(key.kid)",
                logger: logger)
            try await connection.query(
                """
                INSERT INTO signing_keys (kid, algorithm, private_key_pem, public_key_pem, created_at, retire_after)
                VALUES (\(key.kid), \(key.algorithm), \(key.privateKeyPEM), \(key.publicKeyPEM), \(key.createdAt),
                    \(key.retireAfter))
                ON CONFLICT (kid) DO UPDATE SET algorithm = EXCLUDED.algorithm,
                    private_key_pem = EXCLUDED.private_key_pem, public_key_pem = EXCLUDED.public_key_pem,
                    created_at = EXCLUDED.created_at, retire_after = EXCLUDED.retire_after
                """, logger: logger)
        }
    }

    // MARK: internal keys

    package func recordInternalKey(_ key: InternalKeyRecord) async throws(StoreError) {
        _ = try await fetch("record internal key") {
            """
            INSERT INTO internal_keys (jti, api_id, organization, subject, issued_at, expires_at, revoked)
            VALUES (\(key.jti), \(key.apiID), \(key.organization), \(key.subject), \(key.issuedAt), \(key.expiresAt),
                \(key.revoked))
            ON CONFLICT (jti) DO UPDATE SET api_id = EXCLUDED.api_id, organization = EXCLUDED.organization,
                subject = EXCLUDED.subject, issued_at = EXCLUDED.issued_at, expires_at = EXCLUDED.expires_at,
                revoked = EXCLUDED.revoked
            """
        }
    }

    package func revokeInternalKey(jti: String) async throws(StoreError) -> Bool {
        let rows = try await fetch("revoke internal key") {
            "UPDATE internal_keys SET revoked = true WHERE jti = \(jti) RETURNING jti"
        }
        return !rows.isEmpty
    }

    package func internalKey(jti: String) async throws(StoreError) -> InternalKeyRecord? {
        let rows = try await fetch("read internal key") {
            """
            SELECT jti, api_id, organization, subject, issued_at, expires_at, revoked FROM internal_keys
            WHERE jti = \(jti)
            """
        }
        guard let row = rows.first else { return nil }
        return try decode("read internal key") {
            let (jti, apiID, organization, subject, issued, expires, revoked) = try row.decode(
                (String, String, String, String, Date, Date, Bool).self)
            return InternalKeyRecord(jti: jti, apiID: apiID, organization: organization, subject: subject,
                                     issuedAt: issued, expiresAt: expires, revoked: revoked)
        }
    }

    // MARK: deploy history

    package func recordDeploy(_ entry: DeployHistoryEntry) async throws(StoreError) {
        _ = try await fetch("record deploy") {
            """
            INSERT INTO deploy_history (api_id, organization, action, actor, apk_conf_digest, result, at)
            VALUES (\(entry.apiID), \(entry.organization), \(entry.action.rawValue), \(entry.actor),
                \(entry.apkConfDigest), \(entry.result), \(entry.at))
            """
        }
    }

    package func deployHistory(apiID: String?, limit: Int) async throws(StoreError) -> [DeployHistoryEntry] {
        let limit = Int64(max(limit, 0))
        let rows = try await fetch("read deploy history") {
            if let apiID {
                """
                SELECT api_id, organization, action, actor, apk_conf_digest, result, at FROM deploy_history
                WHERE api_id = \(apiID) ORDER BY id DESC LIMIT \(limit)
                """
            } else {
                """
                SELECT api_id, organization, action, actor, apk_conf_digest, result, at FROM deploy_history
                ORDER BY id DESC LIMIT \(limit)
                """
            }
        }
        return try decode("read deploy history") {
            try rows.map { row in
                let (apiID, organization, action, actor, digest, result, at) = try row.decode(
                    (String, String, String, String, String, String, Date).self)
                guard let action = DeployHistoryEntry.Action(rawValue: action) else {
                    throw StoreError.corrupt("unknown deploy action \(action)")
                }
                return DeployHistoryEntry(apiID: apiID, organization: organization, action: action, actor: actor,
                                          apkConfDigest: digest, result: result, at: at)
            }
        }
    }

    // MARK: helpers

    /// Runs one statement and returns its rows.
    private func fetch(_ operation: String, _ query: () -> PostgresQuery) async throws(StoreError) -> [PostgresRow] {
        let query = query()
        let logger = logger
        return try await store.withConnection(operation) { connection in try await connection.rows(query, logger: logger) }
    }

    private func decode<T>(_ operation: String, _ body: () throws -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch {
            throw PostgresStore.storeError(error, operation: operation, timeout: .zero)
        }
    }
}
