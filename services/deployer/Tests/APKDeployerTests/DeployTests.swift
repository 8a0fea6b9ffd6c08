import APKDeployer
import APKModel
import APKStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// `POST …/apis/deploy` (contract §3.2) and `GET …/apis` (ours).
@Suite struct DeployTests {
    @Test(arguments: Paths.prefixes)
    func deployReturnsTheApkConfWithDefaultsAndID(prefix: String) async throws {
        let test = TestDeployer()
        try await test.test { client in
            let token = try await Tokens.fetch(client)
            let response = try await client.deploy(token: token, prefix: prefix)
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            #expect(response.headers[.contentType] == "application/yaml")
            let yaml = String(buffer: response.body)
            #expect(yaml.hasPrefix("---\n"))
            let id = Hashing.sha1("default-EmployeeServiceAPI-3.14")
            #expect(yaml.contains("id: \"\(id)\""))  // strings double-quoted, as the reference writes them
            #expect(yaml.contains("defaultVersion: false"))
            let stored = await test.resources.get(ResourceKey(kind: "API", namespace: "default", name: id))
            #expect(stored?.resource.spec?["organization"] == "default")
            let history = await test.controlPlane.deployHistory(apiID: id, limit: 10)
            #expect(history.count == 1)
            #expect(history.first?.actor == DevelopmentClient.clientID)
            #expect(history.first?.result == "success")
            #expect(history.first?.apkConfDigest == Hashing.sha256(Data(Samples.apkConf().utf8)))
        }
    }

    @Test(arguments: ["apkConfiguration", "definitionFile"])
    func missingPartIs909017(missing: String) async throws {
        try await TestDeployer().test { client in
            var body = MultipartBody.deploy()
            body.parts.removeAll { $0.name == missing }
            let response = try await client.deploy(body, token: try await Tokens.fetch(client))
            #expect(response.status.code == 406)
            let text = String(buffer: response.body)
            #expect(text.hasPrefix(#"{"code":909017,"message":"Invalid API request","description":"#))
            #expect(text.contains(missing))
        }
    }

    @Test func notMultipartIs909017() async throws {
        try await TestDeployer().test { client in
            let token = try await Tokens.fetch(client)
            let response = try await client.execute(
                uri: Paths.deploy, method: .post,
                headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: ByteBuffer(string: "{}"))
            #expect(response.status.code == 406)
            #expect(try JSON.parse(response)["code"] == 909017)
        }
    }

    @Test func invalidApkConfIs909029WithEveryViolation() async throws {
        let test = TestDeployer()
        try await test.test { client in
            let response = try await client.deploy(.deploy(conf: Samples.invalidApkConf), token: try await Tokens.fetch(client))
            #expect(response.status == .badRequest)
            let body = try JSON.parse(response)
            #expect(body["code"] == 909029)
            let pointers = body["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } ?? []
            #expect(pointers.contains("#/defaultVersion"))
            #expect(pointers.contains("#/operations/0/secured"))
            #expect(await test.resources.list(kind: nil, namespace: nil, owner: nil).isEmpty)
        }
    }

    @Test func definitionThatIsNotOpenAPIIsRefused() async throws {
        try await TestDeployer().test { client in
            let response = try await client.deploy(
                .deploy(definition: Samples.graphQLSchema), token: try await Tokens.fetch(client))
            #expect(response.status == .badRequest)
            #expect(try JSON.parse(response)["code"] == 90091)
        }
    }

    @Test func oversizedBodyIs413() async throws {
        try await TestDeployer(configure: { $0.maxBodyBytes = 1024 }).test { client in
            let big = MultipartBody.deploy(definition: Samples.petstore + "\n# " + String(repeating: "x", count: 2048))
            let response = try await client.deploy(big, token: try await Tokens.fetch(client))
            #expect(response.status == .contentTooLarge)
            #expect(try JSON.parse(response)["code"] == 909060)
        }
    }

    @Test func basePathConflictIs909015() async throws {
        let test = TestDeployer()
        try await test.test { client in
            let token = try await Tokens.fetch(client)
            #expect(try await client.deploy(token: token).status == .ok)
            let response = try await client.deploy(.deploy(conf: Samples.apkConf(name: "OtherAPI")), token: token)
            #expect(response.status.code == 406)
            let body = try JSON.parse(response)
            #expect(body["code"] == 909015)
            #expect(body["message"]?.stringValue?.hasPrefix("API Base Path /test") == true)
            let history = await test.controlPlane.deployHistory(apiID: nil, limit: 10)
            #expect(history.first?.result == "909015")
        }
    }

    @Test func redeployReplacesTheAPI() async throws {
        let test = TestDeployer()
        try await test.test { client in
            let token = try await Tokens.fetch(client)
            #expect(try await client.deploy(token: token).status == .ok)
            #expect(try await client.deploy(token: token).status == .ok)
            let list = try JSON.parse(try await client.get(Paths.list, token: token))
            #expect(list["count"] == 1)
        }
    }

    @Test func anotherOrganizationCannotTakeOverAnAPIByID() async throws {
        try await TestDeployer().test { client in
            let token = try await Tokens.fetch(client)
            let id = Hashing.sha1("default-EmployeeServiceAPI-3.14")
            #expect(try await client.deploy(token: token).status == .ok)
            let acme = try await Tokens.fetch(client, id: TestDeployer.acmeClientID, secret: TestDeployer.acmeSecret)
            let conf = "id: \(id)\n" + Samples.apkConf(basePath: "/acme")
            let response = try await client.deploy(.deploy(conf: conf), token: acme)
            #expect(response.status == .conflict)
            #expect(try JSON.parse(response)["code"] == 909065)
            // Without an id, the same apk-conf is another API of its own for the second organization.
            #expect(try await client.deploy(.deploy(conf: Samples.apkConf()), token: acme).status == .ok)
            #expect(try JSON.parse(try await client.get(Paths.list, token: acme))["count"] == 1)
            #expect(try JSON.parse(try await client.get(Paths.list, token: token))["count"] == 1)
        }
    }

    @Test func databaseDownIs503AndRecovers() async throws {
        let test = TestDeployer()
        try await test.test { client in
            let token = try await Tokens.fetch(client)
            #expect(try await client.get("/ready", token: nil).status == .ok)
            test.outage.set(true)
            let response = try await client.deploy(token: token)
            #expect(response.status == .serviceUnavailable)
            #expect(
                String(buffer: response.body)
                    == #"{"code":909063,"message":"Control plane unavailable","description":"The control-plane database is unavailable; retry later","moreInfo":{}}"#
            )
            #expect(try await client.get(Paths.list, token: token).status == .serviceUnavailable)
            #expect(try await client.get("/ready", token: nil).status == .serviceUnavailable)
            #expect(try await client.get("/health", token: nil).status == .ok)
            test.outage.set(false)
            #expect(try await client.get("/ready", token: nil).status == .ok)
            #expect(try await client.deploy(token: token).status == .ok)
        }
    }

    @Test func notReadyUntilBootstrapped() async throws {
        let test = TestDeployer()
        let app = try buildHTTPApplication(deployer: test.deployer, logger: TestDeployer.logger)
        try await app.test(.router) { client in
            #expect(try await client.get("/ready", token: nil).status == .serviceUnavailable)
            try await test.prepare()
            #expect(try await client.get("/ready", token: nil).status == .ok)
        }
    }

    @Test func twentyConcurrentDeploysAllSucceed() async throws {
        let test = TestDeployer()
        try await test.test { client in
            let token = try await Tokens.fetch(client)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        let conf = Samples.apkConf(name: "API\(i)", basePath: "/api\(i)")
                        return try await client.deploy(.deploy(conf: conf), token: token).status.code
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 20))
            let list = try JSON.parse(try await client.get(Paths.list, token: token))
            #expect(list["count"] == 20)
        }
    }

    @Test func listShowsOnlyTheCallersOrganization() async throws {
        try await TestDeployer().test { client in
            let token = try await Tokens.fetch(client)
            #expect(try await client.deploy(token: token).status == .ok)
            let list = try JSON.parse(try await client.get(Paths.prefixes[1], token: token))
            #expect(list["count"] == 1)
            let entry = try #require(list["list"]?.arrayValue?.first?.objectValue)
            #expect(entry.keys == ["id", "name", "version", "basePath", "organization", "environment", "updatedTime"])
            #expect(entry["name"] == "EmployeeServiceAPI")
            #expect(entry["version"] == "3.14")
            #expect(entry["basePath"] == "/test")
            #expect(entry["organization"] == "default")
            let acme = try await Tokens.fetch(client, id: TestDeployer.acmeClientID, secret: TestDeployer.acmeSecret)
            #expect(try JSON.parse(try await client.get(Paths.list, token: acme))["count"] == 0)
        }
    }
}
