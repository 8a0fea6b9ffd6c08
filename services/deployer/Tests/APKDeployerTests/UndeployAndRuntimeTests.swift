import APKDeployer
import APKModel
import APKStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// `POST …/apis/undeploy` (contract §3.3) and the runtime APIs (`GET /api/runtime/apis`, generate-key).
@Suite struct UndeployAndRuntimeTests {
    static let id = Hashing.sha1("default-EmployeeServiceAPI-3.14")

    @Test func deployListGenerateKeyUndeployFlow() async throws {
        let test = TestDeployer()
        try await test.test { client in
            let token = try await Tokens.fetch(client)
            #expect(try await client.deploy(token: token).status == .ok)

            let runtime = try JSON.parse(try await client.get(Paths.runtimeList, token: token))
            #expect(runtime["count"] == 1)
            let entry = try #require(runtime["list"]?.arrayValue?.first?.objectValue)
            #expect(entry.keys == ["id", "name", "version", "context", "type", "organization", "createdTime", "updatedTime"])
            #expect(entry["id"] == .string(Self.id))
            #expect(entry["context"] == "/test/3.14")
            #expect(entry["type"] == "REST")

            let generated = try await client.post(Paths.generateKey(Self.id), token: token)
            #expect(generated.status == .ok)
            let apikey = try #require(try JSON.parse(generated)["apikey"]?.stringValue)
            let (header, claims) = try Tokens.decode(apikey)
            #expect(header["alg"] == "RS256")
            #expect(header["kid"] == (try Tokens.decode(token).header["kid"]))
            #expect(claims["aud"] == "apk-internal-key")
            #expect(claims["apiId"] == .string(Self.id))
            #expect(claims["keytype"] == "PRODUCTION")
            #expect(claims["organization"] == "default")
            #expect(claims["sub"] == .string(DevelopmentClient.clientID))
            #expect(claims["iss"] == "https://idp.am.wso2.com/internal-key", "never the access-token issuer")
            let issuedAt = try #require(claims["iat"]?.intValue)
            #expect(claims["exp"]?.intValue == issuedAt + 86_400)
            let jti = try #require(claims["jti"]?.stringValue)
            let record = await test.controlPlane.internalKey(jti: jti)
            #expect(record?.apiID == Self.id)

            let undeployed = try await client.post(Paths.undeploy(Self.id), token: token)
            #expect(undeployed.status == .accepted)
            #expect(String(buffer: undeployed.body) == #"{"status":"API with id \#(Self.id) undeployed successfully"}"#)
            #expect(try JSON.parse(try await client.get(Paths.runtimeList, token: token))["count"] == 0)
            #expect(await test.resources.list(kind: nil, namespace: nil, owner: nil).isEmpty)
            #expect(try await client.post(Paths.generateKey(Self.id), token: token).status == .notFound)
            let history = await test.controlPlane.deployHistory(apiID: Self.id, limit: 10)
            #expect(history.map(\.action) == [.undeploy, .deploy])
        }
    }

    @Test func undeployOfUnknownOrForeignAPIIs404() async throws {
        try await TestDeployer().test { client in
            let token = try await Tokens.fetch(client)
            #expect(try await client.deploy(token: token).status == .ok)
            let acme = try await Tokens.fetch(client, id: TestDeployer.acmeClientID, secret: TestDeployer.acmeSecret)
            let foreign = try await client.post(Paths.undeploy(Self.id), token: acme)
            #expect(foreign.status == .notFound)
            #expect(
                String(buffer: foreign.body)
                    == #"{"code":909001,"message":"\#(Self.id) not found","description":"\#(Self.id) not found","moreInfo":{}}"#)
            let unknown = try await client.post(Paths.undeploy("nope"), token: token)
            #expect(unknown.status == .notFound)
            #expect(try JSON.parse(try await client.get(Paths.list, token: token))["count"] == 1)
        }
    }

    @Test func undeployWithoutAPIIDIs400() async throws {
        try await TestDeployer().test { client in
            let token = try await Tokens.fetch(client)
            for uri in ["/api/deployer/apis/undeploy", "/api/deployer/1.3.0/apis/undeploy?apiId="] {
                let response = try await client.post(uri, token: token)
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func undeployNeedsTheCreateScope() async throws {
        try await TestDeployer().test { client in
            let view = try await Tokens.fetch(client, scope: "apk:api_view")
            #expect(try await client.post(Paths.undeploy(Self.id), token: view).status == .forbidden)
        }
    }

    @Test func generateKeyForUnknownOrForeignAPIIs404() async throws {
        try await TestDeployer().test { client in
            let token = try await Tokens.fetch(client)
            let unknown = try await client.post(Paths.generateKey("does-not-exist"), token: token)
            #expect(unknown.status == .notFound)
            #expect(try JSON.parse(unknown)["code"] == 909001)
            #expect(try await client.deploy(token: token).status == .ok)
            let acme = try await Tokens.fetch(client, id: TestDeployer.acmeClientID, secret: TestDeployer.acmeSecret)
            #expect(try await client.post(Paths.generateKey(Self.id), token: acme).status == .notFound)
            #expect(try await client.post(Paths.generateKey(Self.id), token: nil).status == .unauthorized)
        }
    }
}
