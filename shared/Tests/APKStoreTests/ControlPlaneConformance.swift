import APKStore
import Foundation
import Testing

/// Round trips through every ``ControlPlaneStore`` table (dates are whole seconds: Postgres keeps microseconds).
struct ControlPlaneConformance {
    let store: any ControlPlaneStore
    let t0 = Date(timeIntervalSince1970: 1_750_000_000)

    func run() async throws {
        try await clients()
        try await signingKeys()
        try await internalKeys()
        try await deployHistory()
    }

    func clients() async throws {
        #expect(try await store.client(id: "nobody") == nil)
        var client = OAuthClient(id: "c1", secretHash: "sha256$00$ff", name: "CLI", organization: "default",
                                 allowedScopes: ["apk:api_create", "apk:api_view"], grantTypes: ["client_credentials"])
        try await store.upsertClient(client)
        #expect(try await store.client(id: "c1") == client)
        client.allowedScopes = []
        client.name = "CLI 2"
        try await store.upsertClient(client)
        #expect(try await store.client(id: "c1") == client, "upsert replaces")
    }

    func signingKeys() async throws {
        #expect(try await store.signingKeys(now: t0).isEmpty)
        let first = SigningKey(kid: "k1", algorithm: "RS256", privateKeyPEM: "PRIVATE-1", publicKeyPEM: "PUBLIC-1",
                               createdAt: t0, retireAfter: nil)
        try await store.addSigningKey(first, retiringPreviousAfter: t0)
        #expect(try await store.signingKeys(now: t0) == [first])

        let second = SigningKey(kid: "k2", algorithm: "RS256", privateKeyPEM: "PRIVATE-2", publicKeyPEM: "PUBLIC-2",
                                createdAt: t0 + 60, retireAfter: nil)
        try await store.addSigningKey(second, retiringPreviousAfter: t0 + 3_600)
        var retired = first
        retired.retireAfter = t0 + 3_600
        #expect(try await store.signingKeys(now: t0 + 120) == [second, retired], "active key first, the old one still published")
        #expect(try await store.signingKeys(now: t0 + 7_200) == [second], "retired keys leave the JWKS")
    }

    func internalKeys() async throws {
        let key = InternalKeyRecord(jti: "j1", apiID: "api-a", organization: "default", subject: "admin",
                                    issuedAt: t0, expiresAt: t0 + 86_400)
        try await store.recordInternalKey(key)
        #expect(try await store.internalKey(jti: "j1") == key)
        #expect(try await store.revokeInternalKey(jti: "j1"))
        #expect(try await store.internalKey(jti: "j1")?.revoked == true)
        #expect(try await store.revokeInternalKey(jti: "unknown") == false)
        #expect(try await store.internalKey(jti: "unknown") == nil)
    }

    func deployHistory() async throws {
        let entries = [
            DeployHistoryEntry(apiID: "x", organization: "default", action: .deploy, actor: "admin",
                               apkConfDigest: "aa", result: "success", at: t0),
            DeployHistoryEntry(apiID: "y", organization: "default", action: .deploy, actor: "admin",
                               apkConfDigest: "bb", result: "909015", at: t0 + 1),
            DeployHistoryEntry(apiID: "x", organization: "default", action: .undeploy, actor: "ops",
                               apkConfDigest: "", result: "success", at: t0 + 2),
        ]
        for entry in entries { try await store.recordDeploy(entry) }
        #expect(try await store.deployHistory(apiID: nil, limit: 10) == entries.reversed())
        #expect(try await store.deployHistory(apiID: "x", limit: 10) == [entries[2], entries[0]])
        #expect(try await store.deployHistory(apiID: "x", limit: 1) == [entries[2]])
        #expect(try await store.deployHistory(apiID: "z", limit: 10).isEmpty)
    }
}
