import APKAuth
import APKModel
import APKTestSupport
import Foundation
import Testing

/// Backend JWT through a real Envoy in `enforcer` mode (contract §7.7): the backend (apk-echo) receives the
/// configured header with a JWT about the caller and the API, signed by the enforcer and verifiable with the JWKS the
/// enforcer publishes; a client cannot send its own.
@Suite(.enabled(if: GatewayStack.available, SkipMessage.gateway), .serialized)
struct BackendJWTThroughRouterTests {
    static let flow = DeployerFlowTests()

    @Test func theBackendReceivesAVerifiableJWTAboutTheCaller() async throws {
        let stack = try await GatewayStack(label: "backend-jwt", enforcement: .enforcer)
        defer { stack.stop() }
        let token = try await Self.flow.token(stack.deployer)
        let name = "gw-bjwt-\(UUID().uuidString.prefix(6).lowercased())"
        let policies = """
            apiPolicies:
              request:
                - policyName: BackendJwt
                  parameters:
                    encoding: Base64url
                    signingAlgorithm: SHA256withRSA
                    header: X-JWT-Assertion
                    tokenTTL: 600
                    customClaims:
                      - {claim: department, value: sales, type: string}
            """
        _ = try await TestAPI(
            name: name, operations: [.init(verb: "GET", target: "/get"), .init(verb: "GET", target: "/open", extra: "secured: false")],
            extraConf: policies
        ).deploy(stack, token: token)
        try await stack.waitFor("/\(name)/1.0.0/open", host: "gw.wso2.com", status: 200)

        let answer = try await stack.call(
            "/\(name)/1.0.0/get", host: "gw.wso2.com",
            headers: ["Authorization": "Bearer \(token)", "X-JWT-Assertion": "forged"])
        #expect(answer.status == 200, "\(answer.text)")
        let headers = try answer.json()["headers"] as? [String: Any] ?? [:]
        let received = try #require(headers.first { $0.key.lowercased() == "x-jwt-assertion" }?.value as? String, "\(headers.keys)")
        #expect(received != "forged")
        let jws = try CompactJWS.parse(received)
        #expect(jws.claims["iss"] == "wso2.org/products/am")
        #expect(jws.claims["http://wso2.org/claims/apiname"]?.stringValue == name)
        #expect(jws.claims["http://wso2.org/claims/apicontext"]?.stringValue == "/\(name)/1.0.0")
        #expect(jws.claims["http://wso2.org/claims/keytype"] == "PRODUCTION")
        #expect(jws.claims["department"] == "sales")
        #expect(jws.claims["sub"]?.stringValue == DeployerFlowTests.devClient.split(separator: ":").first.map(String.init))
        // Verifiable with the enforcer's published key.
        let enforcer = try #require(stack.enforcer)
        let jwks = try await HTTP.get("\(enforcer.baseURL)/jwks")
        let keys = try #require(VerificationKey.keys(fromJWKS: Array(jwks.body)))
        let key = try #require(keys.first { $0.kid == jws.keyID })
        #expect(key.key.verify(signature: jws.signature, signingInput: jws.signingInput))
    }
}
