import APKDeployer
import APKModel
import APKStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 13 item 5: an apk-conf that validates but that the gateway would not serve as configured is refused at
/// deploy (406 909066, every feature with its pointer), and nothing is stored.
@Suite struct DeployRefusalTests {
    static let base = """
        name: Refused
        basePath: /refused
        version: "1"
        type: REST

        """

    static let cases: [(name: String, conf: String, pointer: String)] = [
        ("weighted endpoints", """
            endpointConfigurations:
              production:
                - endpoint: http://a.example.com
                  weight: 60
                - endpoint: http://b.example.com
                  weight: 40
            operations:
              - target: /x
                verb: GET
            """, "#/endpointConfigurations/production"),
        ("weighted operation endpoints", """
            endpointConfigurations:
              production:
                - endpoint: http://a.example.com
            operations:
              - target: /x
                verb: GET
                endpointConfigurations:
                  sandbox:
                    - endpoint: http://s1.example.com
                    - endpoint: http://s2.example.com
            """, "#/operations/0/endpointConfigurations/sandbox"),
        ("interceptor", """
            endpointConfigurations:
              production:
                - endpoint: http://a.example.com
            operations:
              - target: /x
                verb: GET
                operationPolicies:
                  request:
                    - policyName: Interceptor
                      policyVersion: v1
                      parameters:
                        backendUrl: http://interceptor.example.com
            """, "#/operations/0/operationPolicies/request/0"),
        ("mandatory mTLS", """
            endpointConfigurations:
              production:
                - endpoint: http://a.example.com
            authentication:
              - authType: mTLS
                required: mandatory
                certificates:
                  - name: client-ca
                    key: ca.crt
            operations:
              - target: /x
                verb: GET
            """, "#/authentication/0"),
    ]

    @Test(arguments: cases.map(\.name))
    func refusedWith909066AndNothingStored(_ name: String) async throws {
        let entry = try #require(Self.cases.first { $0.name == name })
        let test = TestDeployer()
        try await test.test { client in
            let token = try await Tokens.fetch(client)
            let response = try await client.deploy(.deploy(conf: Self.base + entry.conf), token: token)
            #expect(response.status.code == 406, "\(String(buffer: response.body))")
            let body = try JSON.parse(response)
            #expect(body["code"] == 909066)
            #expect(body["moreInfo"]?[entry.pointer] != nil, "\(body)")
            #expect(await test.resources.list(kind: nil, namespace: nil, owner: nil).isEmpty)
        }
    }

    /// A base path with `{}` passes the apk-conf schema but is not routable.
    @Test func basePathWithBracesIsRefused() async throws {
        try await TestDeployer().test { client in
            let conf = Samples.apkConf(basePath: "/orders/{tenant}")
            let response = try await client.deploy(.deploy(conf: conf), token: try await Tokens.fetch(client))
            #expect(response.status.code == 406)
            let body = try JSON.parse(response)
            #expect(body["code"] == 909066)
            #expect(body["moreInfo"]?["#/basePath"] != nil)
        }
    }

    /// Own endpointConfigurations without an endpoint would leave the operation with no route: 909029.
    @Test func operationWithEmptyOwnEndpointsIsInvalid() async throws {
        try await TestDeployer().test { client in
            let conf = Self.base + """
                endpointConfigurations:
                  production:
                    - endpoint: http://a.example.com
                operations:
                  - target: /x
                    verb: GET
                    endpointConfigurations: {}
                """
            let response = try await client.deploy(.deploy(conf: conf), token: try await Tokens.fetch(client))
            #expect(response.status.code == 400)
            let body = try JSON.parse(response)
            #expect(body["code"] == 909029)
            let pointers = body["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } ?? []
            #expect(pointers == ["#/operations/0/endpointConfigurations"])
        }
    }
}
