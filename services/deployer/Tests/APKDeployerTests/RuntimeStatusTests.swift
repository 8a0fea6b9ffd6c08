import APKDeployer
import APKModel
import APKStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// `GET /api/runtime/apis/{id}` (issue 13 item 5): the gateway's status of the API's last deploy, so that what the
/// router could not serve as configured is visible — `Pending` until the adapter reports on this generation.
@Suite struct RuntimeStatusTests {
    static let id = Hashing.sha1("default-EmployeeServiceAPI-3.14")
    static let path = "/api/runtime/apis/\(id)"

    /// What the adapter writes (`APIStatus.document`), for `generation`.
    static func adapterStatus(_ status: String, message: String, generation: Int) -> JSONValue {
        ["deploymentStatus": [
            "status": .string(status), "accepted": .bool(status != "Failed"), "message": .string(message),
            "transitionTime": "2026-12-07T12:00:00Z", "observedGeneration": .int(generation),
        ]]
    }

    @Test func statusFollowsTheGenerationOfTheLastDeploy() async throws {
        let test = TestDeployer()
        try await test.test { client in
            let token = try await Tokens.fetch(client)
            #expect(try await client.deploy(token: token).status == .ok)
            let key = ResourceKey(kind: "API", namespace: "default", name: Self.id)

            var body = try JSON.parse(try await client.get(Self.path, token: token))
            #expect(body["id"] == .string(Self.id))
            #expect(body["context"] == "/test/3.14")
            #expect(body["deploymentStatus"]?["status"] == "Pending")

            let message = "Backend backend-x-api: ConfigMap orders-ca does not exist"
            _ = await test.resources.updateStatus(key, status: Self.adapterStatus("PartiallyDeployed", message: message, generation: 1))
            body = try JSON.parse(try await client.get(Self.path, token: token))
            #expect(body["deploymentStatus"]?["status"] == "PartiallyDeployed")
            #expect(body["deploymentStatus"]?["message"] == .string(message))
            #expect(body["deploymentStatus"]?["accepted"] == true)

            // A changed deploy is a new generation: the old status no longer describes it.
            #expect(try await client.deploy(.deploy(conf: Samples.apkConf(basePath: "/moved")), token: token).status == .ok)
            body = try JSON.parse(try await client.get(Self.path, token: token))
            #expect(body["deploymentStatus"]?["status"] == "Pending")
            _ = await test.resources.updateStatus(key, status: Self.adapterStatus("Deployed", message: "routable on the gateway", generation: 2))
            body = try JSON.parse(try await client.get(Self.path, token: token))
            #expect(body["deploymentStatus"]?["status"] == "Deployed")
        }
    }

    @Test func unknownOrForeignAPIIs404AndViewScopeIsNeeded() async throws {
        try await TestDeployer().test { client in
            let token = try await Tokens.fetch(client)
            #expect(try await client.deploy(token: token).status == .ok)
            let acme = try await Tokens.fetch(client, id: TestDeployer.acmeClientID, secret: TestDeployer.acmeSecret)
            let foreign = try await client.get(Self.path, token: acme)
            #expect(foreign.status == .notFound)
            #expect(try JSON.parse(foreign)["code"] == 909001)
            #expect(try await client.get("/api/runtime/apis/nope", token: token).status == .notFound)
            let subscriber = try await Tokens.fetch(client, scope: "apk:subscribe")
            #expect(try await client.get(Self.path, token: subscriber).status == .forbidden)
        }
    }
}
