import APKStore
import Foundation
import Testing

/// Round trips through every ``ControlPlaneStore`` table (dates are whole seconds: Postgres keeps microseconds).
struct ControlPlaneConformance {
    let store: any ControlPlaneStore
    let t0 = Date(timeIntervalSince1970: 1_750_000_000)

    func run() async throws {
        try await clients()
        try await clientManagement()
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

    /// Registration: create (never over an existing id), list per organization, update and secret replacement
    /// keep what they do not change, and nothing of another organization is reachable.
    func clientManagement() async throws {
        #expect(try await store.clients(organization: "reg").isEmpty)
        let beta = OAuthClient(id: "r-2", secretHash: "sha256$01$aa", name: "beta", organization: "reg",
                               allowedScopes: ["apk:api_view"], grantTypes: ["client_credentials"],
                               redirectURIs: ["https://app.example/cb"])
        let alpha = OAuthClient(id: "r-3", secretHash: "sha256$02$bb", name: "alpha", organization: "reg",
                                allowedScopes: [], grantTypes: ["client_credentials", "refresh_token"])
        let sameName = OAuthClient(id: "r-1", secretHash: "sha256$03$cc", name: "beta", organization: "reg",
                                   allowedScopes: [], grantTypes: ["client_credentials"])
        let foreign = OAuthClient(id: "x-1", secretHash: "sha256$04$dd", name: "aaa", organization: "other",
                                  allowedScopes: [], grantTypes: ["client_credentials"])
        for client in [beta, alpha, sameName, foreign] { #expect(try await store.createClient(client)) }
        var taken = foreign
        taken.organization = "reg"
        #expect(try await store.createClient(taken) == false, "an existing id is never overwritten")
        #expect(try await store.client(id: "x-1") == foreign)
        #expect(try await store.client(id: "r-2") == beta, "redirect URIs round-trip")
        #expect(try await store.clients(organization: "reg") == [alpha, sameName, beta], "by name, then id")
        #expect(try await store.clients(organization: "other") == [foreign])

        var changed = beta
        changed.name = "beta 2"
        changed.allowedScopes = ["apk:api_view", "apk:subscribe"]
        changed.grantTypes = ["authorization_code"]
        changed.redirectURIs = []
        changed.secretHash = "sha256$ff$ff"  // ignored: update never changes the secret
        var expected = changed
        expected.secretHash = beta.secretHash
        #expect(try await store.updateClient(changed) == expected)
        #expect(try await store.client(id: "r-2") == expected)
        var hijack = foreign
        hijack.organization = "reg"
        hijack.name = "hijacked"
        #expect(try await store.updateClient(hijack) == nil, "another organization's client is not found")
        #expect(try await store.client(id: "x-1") == foreign)
        var missing = beta
        missing.id = "nobody"
        #expect(try await store.updateClient(missing) == nil)

        var rotated = expected
        rotated.secretHash = "sha256$0a$0b"
        #expect(try await store.replaceClientSecret(id: "r-2", organization: "reg", secretHash: "sha256$0a$0b") == rotated,
                "only the secret changes")
        #expect(try await store.client(id: "r-2") == rotated)
        #expect(try await store.replaceClientSecret(id: "x-1", organization: "reg", secretHash: "sha256$0a$0b") == nil)
        #expect(try await store.client(id: "x-1")?.secretHash == foreign.secretHash)

        // Hash upgrades are compare-and-set: only from the hash read, whatever the organization.
        #expect(try await store.upgradeClientSecretHash(id: "r-2", from: "sha256$00$00", to: "pbkdf2-sha256$1$AA==$BB==") == false)
        #expect(try await store.client(id: "r-2") == rotated, "a stale upgrade never overwrites a newer secret")
        #expect(try await store.upgradeClientSecretHash(id: "r-2", from: "sha256$0a$0b", to: "pbkdf2-sha256$1$AA==$BB=="))
        #expect(try await store.client(id: "r-2")?.secretHash == "pbkdf2-sha256$1$AA==$BB==")
        #expect(try await store.upgradeClientSecretHash(id: "nobody", from: "", to: "x") == false)

        #expect(try await store.deleteClient(id: "x-1", organization: "reg") == false)
        #expect(try await store.client(id: "x-1") == foreign)
        #expect(try await store.deleteClient(id: "r-2", organization: "reg"))
        #expect(try await store.client(id: "r-2") == nil)
        #expect(try await store.deleteClient(id: "r-2", organization: "reg") == false)
        #expect(try await store.clients(organization: "reg") == [alpha, sameName])
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
        #expect(try await store.allSigningKeys() == [second, retired], "every row, retired ones too")

        // Re-encryption is compare-and-set on the stored value.
        #expect(try await store.replaceSigningKeyPrivateKey(kid: "k1", from: "PRIVATE-2", to: "SEALED-1") == false)
        #expect(try await store.replaceSigningKeyPrivateKey(kid: "k1", from: "PRIVATE-1", to: "SEALED-1"))
        #expect(try await store.replaceSigningKeyPrivateKey(kid: "k1", from: "PRIVATE-1", to: "SEALED-X") == false)
        #expect(try await store.replaceSigningKeyPrivateKey(kid: "nope", from: "PRIVATE-1", to: "SEALED-X") == false)
        retired.privateKeyPEM = "SEALED-1"
        #expect(try await store.allSigningKeys() == [second, retired], "only the private key changed")
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
