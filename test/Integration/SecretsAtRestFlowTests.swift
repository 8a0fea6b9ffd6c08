import APKStore
import APKTestSupport
import Foundation
import Logging
import Testing

/// Issue 14 item 4 through the real deployer on a PostgreSQL cluster of its own: plaintext signing keys of an older
/// database are encrypted at start-up, a deploy + token + client-registration flow stores only PBKDF2 hashes and
/// sealed keys, a wrong KEK stops the deployer, a KEK rotation re-seals every key — and no log line of any of these
/// processes (at `trace`) holds a client secret, an access token, an internal key, a PEM header or a KEK.
@Suite(.enabled(if: TestEnvironment.databaseURL != nil, SkipMessage.database), .serialized)
struct SecretsAtRestFlowTests {
    static let devSecret = "4fbd62ec-a92e-11ed-afa1-0242ac120002"
    static let devClient = "45f1c5c8-a92e-11ed-afa1-0242ac120002"

    static func randomKEK() -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
    }

    func start(_ url: String, _ environment: [String: String]) throws -> ServiceProcess {
        try ServiceProcess(executable: "apk-deployer", environment: environment.merging([
            "DATABASE_URL": url, "SEED_DEV_CLIENT": "true", "LOG_LEVEL": "trace",
            "DEPLOY_NAMESPACE": "it-secrets-\(UUID().uuidString.prefix(8).lowercased())",
        ]) { $1 })
    }

    func token(_ deployer: ServiceProcess, id: String, secret: String, scope: String) async throws -> String {
        let response = try await HTTP.send(
            "POST", "\(deployer.baseURL)/oauth2/token",
            headers: ["Authorization": "Basic \(Data("\(id):\(secret)".utf8).base64EncodedString())",
                      "Content-Type": "application/x-www-form-urlencoded"],
            body: Data("grant_type=client_credentials&scope=\(scope)".utf8))
        #expect(response.status == 200, "\(response.text)")
        return try #require(try response.json()["access_token"] as? String)
    }

    /// The control-plane rows of the cluster at `url`.
    func controlPlane<T: Sendable>(_ url: String, _ body: (PostgresControlPlaneStore) async throws -> T) async throws -> T {
        var logger = Logger(label: "apk.it.secrets")
        logger.logLevel = .error
        let store = PostgresStore(configuration: try PostgresStore.Configuration(url: url), logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.makeService(migrate: false).run() }
            defer { group.cancelAll() }
            return try await body(store.controlPlane)
        }
    }

    @Test func secretsAreStoredProtectedAndNeverLogged() async throws {
        let cluster = try await PostgresCluster.start(label: "apk-secrets-pg")
        do {
            try await flow(cluster)
        } catch {
            try? await cluster.destroy()
            throw error
        }
        try await cluster.destroy()
    }

    func flow(_ cluster: PostgresCluster) async throws {
        var logs: [String] = []
        var secrets: [String] = [Self.devSecret]

        // An older database: signing keys stored as plaintext PEM (development flag, no KEK).
        let legacy = try start(cluster.url, ["SIGNING_KEY_ALLOW_PLAINTEXT": "true"])
        try await legacy.waitUntil(path: "/ready")
        legacy.stop()
        logs.append(legacy.log)
        let plain = try await controlPlane(cluster.url) { try await $0.allSigningKeys() }
        #expect(!plain.isEmpty && plain.allSatisfy { $0.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----") })

        // Start-up with a KEK encrypts them; the flow stores PBKDF2 hashes only.
        let kek = Self.randomKEK()
        secrets.append(kek)
        let deployer = try start(cluster.url, ["SIGNING_KEY_KEK": kek])
        try await deployer.waitUntil(path: "/ready")
        let sealed = try await controlPlane(cluster.url) { try await $0.allSigningKeys() }
        #expect(Set(sealed.map(\.kid)) == Set(plain.map(\.kid)))
        let firstKEKID = try #require(Self.kekIDs(sealed).first)
        #expect(firstKEKID != "plaintext")
        #expect(Self.kekIDs(sealed) == [firstKEKID], "every key sealed by the one KEK: \(sealed.map(\.kid))")

        let admin = try await token(deployer, id: Self.devClient, secret: Self.devSecret, scope: "apk:admin")
        let registered = try await HTTP.send(
            "POST", "\(deployer.baseURL)/dcr/register",
            headers: ["Authorization": "Bearer \(admin)", "Content-Type": "application/json"],
            body: Data(#"{"client_name":"secrets-it","grant_types":["client_credentials"],"scopes":["apk:api_create"]}"#.utf8))
        #expect(registered.status == 201, "\(registered.text)")
        let clientID = try #require(try registered.json()["client_id"] as? String)
        let secret = try #require(try registered.json()["client_secret"] as? String)
        let apiToken = try await token(deployer, id: clientID, secret: secret, scope: "apk:api_create")
        let form = HTTP.multipart([
            ("apkConfiguration", "api.apk-conf.yaml", try Fixtures.data("bundles/employee.apk-conf.yaml")),
            ("definitionFile", "api.yaml", try Fixtures.data("openapi/petstore-3.0.yaml")),
        ])
        let deployed = try await HTTP.send(
            "POST", "\(deployer.baseURL)/api/deployer/apis/deploy",
            headers: ["Authorization": "Bearer \(apiToken)", "Content-Type": form.contentType], body: form.body)
        #expect(deployed.status == 200, "\(deployed.text)")
        let apiID = try #require(deployed.text.split(separator: "\n").first { $0.hasPrefix("id: ") }?.dropFirst(4))
            .replacingOccurrences(of: "\"", with: "")
        let key = try await HTTP.send(
            "POST", "\(deployer.baseURL)/api/runtime/apis/\(apiID)/generate-key",
            headers: ["Authorization": "Bearer \(apiToken)"], body: nil)
        #expect(key.status == 200, "\(key.text)")
        let internalKey = try #require(try key.json()["apikey"] as? String)
        let regenerated = try await HTTP.send(
            "POST", "\(deployer.baseURL)/dcr/register/\(clientID)/regenerate-secret", headers: ["Authorization": "Bearer \(admin)"],
            body: nil)
        #expect(regenerated.status == 200, "\(regenerated.text)")
        let newSecret = try #require(try regenerated.json()["client_secret"] as? String)
        let newToken = try await token(deployer, id: clientID, secret: newSecret, scope: "apk:api_create")
        secrets += [admin, secret, apiToken, internalKey, newSecret, newToken]
        let hashes = try await controlPlane(cluster.url) { store in
            [try await store.client(id: clientID)?.secretHash, try await store.client(id: Self.devClient)?.secretHash]
        }
        for hash in hashes {
            #expect(hash?.hasPrefix("pbkdf2-sha256$600000$") == true, "\(hash?.prefix(20) ?? "none")")
        }
        deployer.stop()
        logs.append(deployer.log)

        // A wrong KEK: the deployer refuses to start, naming the key, never showing it.
        let wrongKEK = Self.randomKEK()
        secrets.append(wrongKEK)
        let refused = try start(cluster.url, ["SIGNING_KEY_KEK": wrongKEK])
        let failure = await #expect(throws: TestSupportError.self) { try await refused.waitUntil(path: "/ready") }
        #expect("\(failure.map { "\($0)" } ?? "")".contains("exited early"))
        logs.append(refused.log)
        #expect(refused.log.contains("cannot be decrypted"), "\(refused.logTail())")
        #expect(try await controlPlane(cluster.url) { try await $0.allSigningKeys() } == sealed, "nothing rewritten")

        // Rotation: a new KEK with the previous one accepted re-seals every key; old tokens still verify.
        let newKEK = Self.randomKEK()
        secrets.append(newKEK)
        let rotated = try start(cluster.url, ["SIGNING_KEY_KEK": newKEK, "SIGNING_KEY_KEK_PREVIOUS": kek])
        try await rotated.waitUntil(path: "/ready")
        let resealed = try await controlPlane(cluster.url) { try await $0.allSigningKeys() }
        #expect(Set(resealed.map(\.kid)) == Set(plain.map(\.kid)))
        #expect(Self.kekIDs(resealed).count == 1 && !Self.kekIDs(resealed).contains(firstKEKID))
        let listed = try await HTTP.get("\(rotated.baseURL)/api/runtime/apis", headers: ["Authorization": "Bearer \(newToken)"])
        #expect(listed.status == 200, "\(listed.text)")
        _ = try await token(rotated, id: clientID, secret: newSecret, scope: "apk:api_create")
        rotated.stop()
        logs.append(rotated.log)

        let text = logs.joined(separator: "\n")
        #expect(text.contains("access token issued"), "the logs were captured at trace")
        for secret in secrets {
            #expect(!text.contains(secret), "a secret, token or key is logged: \(secret.prefix(6))…")
        }
        #expect(!text.contains("BEGIN"), "a PEM header is logged")
    }

    /// The KEK ids of sealed private keys (`apk-sealed:v1:aes-256-gcm:<id>:…`); a plaintext key gives "plaintext".
    static func kekIDs(_ keys: [SigningKey]) -> Set<String> {
        Set(keys.map { key in
            let prefix = "apk-sealed:v1:aes-256-gcm:"
            guard key.privateKeyPEM.hasPrefix(prefix), !key.privateKeyPEM.contains("-----") else { return "plaintext" }
            return String(key.privateKeyPEM.dropFirst(prefix.count).prefix { $0 != ":" })
        })
    }
}
