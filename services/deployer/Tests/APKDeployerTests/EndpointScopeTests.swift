import APKDeployer
import APKModel
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Which scope opens which endpoint (README § Endpoints): deploy/undeploy `apk:api_create`; listing APIs
/// `apk:api_view` or `apk:api_create`; generate-key `apk:subscribe` or `apk:api_create`; `default` nothing.
@Suite struct EndpointScopeTests {
    static let id = Hashing.sha1("default-EmployeeServiceAPI-3.14")

    @Test(arguments: [
        // scope, deployer list, runtime list, generate-key, deploy
        ("apk:api_create", true, true, true, true),
        ("apk:api_view", true, true, false, false),
        ("apk:subscribe", false, false, true, false),
        ("default", false, false, false, false),
        ("apk:admin", false, false, false, false),
    ])
    func scopesOpenTheirEndpoints(scope: String, list: Bool, runtimeList: Bool, generateKey: Bool, deploy: Bool) async throws {
        try await TestDeployer().test { client in
            let creator = try await Tokens.fetch(client, scope: "apk:api_create")
            #expect(try await client.deploy(token: creator).status == .ok)
            let token = try await Tokens.fetch(client, scope: scope)
            #expect(try Tokens.decode(token).claims["scope"] == .string(scope))

            func check(_ response: TestResponse, allowed: Bool, ok: HTTPResponse.Status = .ok, resource: String) {
                if allowed {
                    #expect(response.status == ok, "\(scope) → \(resource)")
                } else {
                    CallerAuthenticationTests.expectForbidden(response, resource: resource)
                }
            }
            check(try await client.get(Paths.list, token: token), allowed: list, resource: "/apis")
            check(try await client.get(Paths.runtimeList, token: token), allowed: runtimeList, resource: "/apis")
            check(try await client.post(Paths.generateKey(Self.id), token: token), allowed: generateKey,
                  resource: "/apis/{apiId}/generate-key")
            check(try await client.deploy(token: token), allowed: deploy, resource: "/apis/deploy")
        }
    }
}
