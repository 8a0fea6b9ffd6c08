import APKTestSupport
import Foundation
import Testing

/// The "done when" path through the real binaries: config service → apk-conf, token from the deployer's
/// issuer, deploy, list (runtime and deployer), generate-key, undeploy, plus the error answers, against the real
/// PostgreSQL started by `./build-apk.sh test`.
@Suite(.enabled(if: TestEnvironment.databaseURL != nil, SkipMessage.database), .serialized)
struct DeployerFlowTests {
    static let devClient = "45f1c5c8-a92e-11ed-afa1-0242ac120002:4fbd62ec-a92e-11ed-afa1-0242ac120002"

    /// A deployer on its own namespace of the shared test database.
    func startDeployer(namespace: String, databaseURL: String? = TestEnvironment.databaseURL) async throws -> ServiceProcess {
        let deployer = try ServiceProcess(executable: "apk-deployer", environment: [
            "DATABASE_URL": databaseURL ?? "", "SEED_DEV_CLIENT": "true", "DEPLOY_NAMESPACE": namespace,
        ])
        try await deployer.waitUntil(path: "/ready")
        return deployer
    }

    func token(_ deployer: ServiceProcess, scope: String = "apk:api_create") async throws -> String {
        let response = try await HTTP.send(
            "POST", "\(deployer.baseURL)/oauth2/token",
            headers: ["Authorization": "Basic \(Data(Self.devClient.utf8).base64EncodedString())",
                      "Content-Type": "application/x-www-form-urlencoded"],
            body: Data("grant_type=client_credentials&scope=\(scope)".utf8))
        #expect(response.status == 200, "\(response.text)")
        return try #require(try response.json()["access_token"] as? String)
    }

    /// Deploys and returns the API id from the deployer's answer (the apk-conf it stored).
    func deployedID(_ deployer: ServiceProcess, token: String, conf: String, definition: String) async throws -> String {
        let response = try await deploy(deployer, token: token, conf: Data(conf.utf8), definition: Data(definition.utf8))
        #expect(response.status == 200, "\(response.text)")
        return try #require(response.text.split(separator: "\n").first { $0.hasPrefix("id: ") }?.dropFirst(4)).description.replacingOccurrences(of: "\"", with: "")
    }

    /// An internal key for `api` from `generate-key`.
    func internalKey(_ deployer: ServiceProcess, token: String, api: String) async throws -> String {
        let response = try await HTTP.send(
            "POST", "\(deployer.baseURL)/api/runtime/apis/\(api)/generate-key",
            headers: ["Authorization": "Bearer \(token)"], body: nil)
        #expect(response.status == 200, "\(response.text)")
        return try #require(try response.json()["apikey"] as? String)
    }

    func deploy(_ deployer: ServiceProcess, token: String, conf: Data, definition: Data) async throws -> HTTP.Response {
        let form = HTTP.multipart([("apkConfiguration", "api.apk-conf.yaml", conf), ("definitionFile", "api.yaml", definition)])
        return try await HTTP.send("POST", "\(deployer.baseURL)/api/deployer/apis/deploy",
                                   headers: ["Authorization": "Bearer \(token)", "Content-Type": form.contentType], body: form.body)
    }

    @Test func openAPIToDeployedAPIAndBack() async throws {
        let definition = try Fixtures.data("openapi/petstore-3.0.yaml")
        let config = try ServiceProcess(executable: "apk-config", environment: [:])
        defer { config.stop() }
        try await config.waitUntil(path: "/health")
        let form = HTTP.multipart([("definition", "petstore.yaml", definition)])
        let generated = try await HTTP.send("POST", "\(config.baseURL)/api/configurator/apis/generate-configuration",
                                            headers: ["Content-Type": form.contentType], body: form.body)
        #expect(generated.status == 200, "\(generated.text)")
        #expect(generated.text.hasPrefix("---"))

        let deployer = try await startDeployer(namespace: "it-flow-\(UUID().uuidString.prefix(8).lowercased())")
        defer { deployer.stop() }
        let token = try await token(deployer)
        let deployed = try await deploy(deployer, token: token, conf: generated.body, definition: definition)
        #expect(deployed.status == 200, "\(deployed.text)")
        let id = try #require(deployed.text.split(separator: "\n").first { $0.hasPrefix("id: ") }?.dropFirst(4)).description.replacingOccurrences(of: "\"", with: "")
        #expect(!id.isEmpty)

        let auth = ["Authorization": "Bearer \(token)"]
        let runtime = try await HTTP.get("\(deployer.baseURL)/api/runtime/apis", headers: auth)
        #expect(runtime.status == 200)
        let runtimeIDs = (try runtime.json()["list"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
        #expect(runtimeIDs.contains(id))
        let listed = try await HTTP.get("\(deployer.baseURL)/api/deployer/apis", headers: auth)
        #expect(listed.status == 200 && listed.text.contains(id))

        let key = try await HTTP.send("POST", "\(deployer.baseURL)/api/runtime/apis/\(id)/generate-key", headers: auth, body: nil)
        #expect(key.status == 200, "\(key.text)")
        #expect(((try key.json()["apikey"] as? String)?.split(separator: ".").count) == 3)

        let undeployed = try await HTTP.send("POST", "\(deployer.baseURL)/api/deployer/apis/undeploy?apiId=\(id)", headers: auth, body: nil)
        #expect(undeployed.status == 202, "\(undeployed.text)")
        let again = try await HTTP.send("POST", "\(deployer.baseURL)/api/deployer/apis/undeploy?apiId=\(id)", headers: auth, body: nil)
        #expect(again.status == 404 && again.text.contains("909001"))
    }

    @Test func errorAnswersOfTheRealService() async throws {
        let deployer = try await startDeployer(namespace: "it-errors-\(UUID().uuidString.prefix(8).lowercased())")
        defer { deployer.stop() }
        let definition = try Fixtures.data("openapi/petstore-3.0.yaml")
        let conf = try Fixtures.data("bundles/employee.apk-conf.yaml")

        let anonymous = try await deploy(deployer, token: "not-a-jwt", conf: conf, definition: definition)
        #expect(anonymous.status == 401 && anonymous.text.contains("900903"))
        let viewer = try await token(deployer, scope: "apk:api_view")
        let forbidden = try await deploy(deployer, token: viewer, conf: conf, definition: definition)
        #expect(forbidden.status == 403 && forbidden.text.contains("900910"))

        let token = try await token(deployer)
        let form = HTTP.multipart([("apkConfiguration", "api.apk-conf.yaml", conf)])
        let missing = try await HTTP.send("POST", "\(deployer.baseURL)/api/deployer/apis/deploy",
                                          headers: ["Authorization": "Bearer \(token)", "Content-Type": form.contentType], body: form.body)
        #expect(missing.status == 406 && missing.text.contains("909017"))
        let invalid = try await deploy(deployer, token: token, conf: Data("name: x\nbasePath: nope\nversion: 1\n".utf8), definition: definition)
        #expect(invalid.status == 400 && invalid.text.contains("909029"))

        // Two APIs of one organization may not share a base path.
        let first = try await deploy(deployer, token: token, conf: conf, definition: definition)
        #expect(first.status == 200, "\(first.text)")
        let clash = String(decoding: conf, as: UTF8.self).replacingOccurrences(of: "name: EmployeeServiceAPI", with: "name: EmployeeClone")
        let conflict = try await deploy(deployer, token: token, conf: Data(clash.utf8), definition: definition)
        #expect(conflict.status == 406 && conflict.text.contains("909015"), "\(conflict.text)")
    }

    @Test func deployedAPIsSurviveARestart() async throws {
        let namespace = "it-restart-\(UUID().uuidString.prefix(8).lowercased())"
        var deployer = try await startDeployer(namespace: namespace)
        let token = try await token(deployer)
        let deployed = try await deploy(deployer, token: token, conf: try Fixtures.data("bundles/employee.apk-conf.yaml"),
                                        definition: try Fixtures.data("openapi/petstore-3.0.yaml"))
        #expect(deployed.status == 200, "\(deployed.text)")
        deployer.stop()
        deployer = try await startDeployer(namespace: namespace)
        defer { deployer.stop() }
        // The old token still verifies: the signing key is kept in PostgreSQL.
        let listed = try await HTTP.get("\(deployer.baseURL)/api/runtime/apis", headers: ["Authorization": "Bearer \(token)"])
        #expect(listed.status == 200 && listed.text.contains("EmployeeServiceAPI"), "\(listed.text)")
    }

    @Test func unreachableDatabaseIsAnswered503() async throws {
        let closedPort = try FreePort.next()
        let deployer = try ServiceProcess(executable: "apk-deployer", environment: [
            "DATABASE_URL": "postgres://apk@127.0.0.1:\(closedPort)/apk", "SEED_DEV_CLIENT": "true",
        ])
        defer { deployer.stop() }
        try await deployer.waitUntil(path: "/health")
        try await deployer.waitUntil(path: "/ready", answers: 503)
        let token = try await HTTP.send(
            "POST", "\(deployer.baseURL)/oauth2/token",
            headers: ["Authorization": "Basic \(Data(Self.devClient.utf8).base64EncodedString())",
                      "Content-Type": "application/x-www-form-urlencoded"],
            body: Data("grant_type=client_credentials".utf8))
        #expect(token.status == 503, "\(token.text)")
    }
}

/// Why a suite was skipped (the values come from ``TestEnvironment``).
enum SkipMessage {
    static let database: Comment = "APK_TEST_DATABASE_URL is not set: integration tests skipped (./build-apk.sh test sets it)"
    static let gateway: Comment = "APK_TEST_DATABASE_URL or APK_ENVOY_BIN is not set: gateway tests skipped (./build-apk.sh test sets both)"
}

/// 20 concurrent deploys through the real deployer into the real PostgreSQL: 10 redeploys of one API racing 10
/// deploys of different APIs. Every request succeeds and exactly one API per name is listed afterwards. (That each
/// API's children match one complete bundle is asserted at the store level, against PostgreSQL too, by the
/// conformance suite in shared/Tests/APKStoreTests.)
@Suite(.enabled(if: TestEnvironment.databaseURL != nil, SkipMessage.database))
struct ConcurrentDeployTests {
    @Test func twentyConcurrentDeploysEndConsistent() async throws {
        let flow = DeployerFlowTests()
        let deployer = try await flow.startDeployer(namespace: "it-concurrent-\(UUID().uuidString.prefix(8).lowercased())")
        defer { deployer.stop() }
        let token = try await flow.token(deployer)
        let definition = try Fixtures.data("openapi/petstore-3.0.yaml")
        let template = try Fixtures.text("bundles/employee.apk-conf.yaml")
        let confs: [Data] = (0..<20).map { i in
            let name = i < 10 ? "SharedAPI" : "OwnAPI\(i)"
            let basePath = i < 10 ? "/shared" : "/own\(i)"
            // The shared API's revisions differ in one operation, so each redeploy really changes its routes.
            let extra = i < 10 ? "\n  - target: /rev\(i)\n    verb: GET" : ""
            return Data((template.replacingOccurrences(of: "name: EmployeeServiceAPI", with: "name: \(name)")
                .replacingOccurrences(of: "basePath: /test", with: "basePath: \(basePath)") + extra).utf8)
        }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for conf in confs {
                group.addTask { try await flow.deploy(deployer, token: token, conf: conf, definition: definition).status }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 20))

        let listed = try await HTTP.get("\(deployer.baseURL)/api/deployer/apis", headers: ["Authorization": "Bearer \(token)"])
        let entries = try #require(try listed.json()["list"] as? [[String: Any]])
        #expect(entries.count == 11, "one shared API and ten others")
        let names = Set(entries.compactMap { $0["name"] as? String })
        #expect(names == Set(["SharedAPI"] + (10..<20).map { "OwnAPI\($0)" }))
    }
}
