import APKAuth
import APKModel
import APKTestSupport
import Foundation
import Testing

/// Backend JWT through a real Envoy in both enforcement modes (contract §7.7): the backend (apk-echo) receives the
/// configured header with a JWT about the caller and the API, signed by the enforcer and verifiable with the JWKS the
/// router publishes at `api.am.wso2.com/.wellknown/jwks`; a client cannot send its own. In `native` mode the
/// enforcer is called after Envoy's filters allowed the request and signs from `jwt_authn`'s verified payload; when
/// it is down such a route answers 503 (never forwarded without its token) and other routes are unaffected.
@Suite(.enabled(if: GatewayStack.available, SkipMessage.gateway), .serialized)
struct BackendJWTThroughRouterTests {
    static let flow = DeployerFlowTests()
    /// An operation with a backend JWT of its own (it replaces the API's there).
    static let operationPolicy = """
        operationPolicies: {request: [{policyName: BackendJwt, parameters: {encoding: Base64url, \
        signingAlgorithm: SHA256withRSA, header: X-Op-JWT, tokenTTL: 60, \
        customClaims: [{claim: scope-of, value: operation, type: string}]}}]}
        """

    /// `native` with its default Lua stage (a per-worker token cache), `native` with the ext_authz stage, `enforcer`.
    @Test(arguments: [
        (GatewayStack.Enforcement.native, "lua"), (GatewayStack.Enforcement.native, "ext_authz"), (.enforcer, "lua"),
    ])
    func theBackendReceivesAVerifiableJWTAboutTheCaller(mode: GatewayStack.Enforcement, stage: String) async throws {
        let stack = try await GatewayStack(
            label: "backend-jwt-\(mode.rawValue)", enforcement: mode, withEnforcer: true,
            environment: ["AUTH_BACKEND_JWT_STAGE": stage])
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
        let apiID = try await TestAPI(
            name: name, operations: [
                .init(verb: "GET", target: "/get"), .init(verb: "GET", target: "/open", extra: "secured: false"),
                .init(verb: "GET", target: "/own", extra: Self.operationPolicy),
            ],
            extraConf: policies
        ).deploy(stack, token: token)
        try await stack.waitFor("/\(name)/1.0.0/open", host: "gw.wso2.com", status: 200)

        let answer = try await stack.call(
            "/\(name)/1.0.0/get", host: "gw.wso2.com",
            headers: ["Authorization": "Bearer \(token)", "X-JWT-Assertion": "forged"])
        #expect(answer.status == 200, "\(answer.text)\n\(stack.envoy.logTail())")
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
        #expect(jws.claims["scope"] != nil, "string claims of the token are copied in both modes")
        // The same credential again: the same token (the enforcer's signer and, natively, the worker's cache).
        let again = try await stack.call(
            "/\(name)/1.0.0/get", host: "gw.wso2.com", headers: ["Authorization": "Bearer \(token)"])
        let againHeaders = try again.json()["headers"] as? [String: Any] ?? [:]
        #expect(againHeaders.first { $0.key.lowercased() == "x-jwt-assertion" }?.value as? String == received)
        // Verifiable with the key the router publishes.
        let jwks = try await stack.call("/.wellknown/jwks", host: "api.am.wso2.com", credentials: false)
        #expect(jwks.status == 200, "\(jwks.text)")
        let keys = try #require(VerificationKey.keys(fromJWKS: Array(jwks.text.utf8)))
        let key = try #require(keys.first { $0.kid == jws.keyID })
        #expect(key.key.verify(signature: jws.signature, signingInput: jws.signingInput))

        // An internal key authenticates too, and its backend JWT names the key's subject.
        let internalKey = try await Self.flow.internalKey(stack.deployer, token: token, api: apiID)
        let viaKey = try await stack.call("/\(name)/1.0.0/get", host: "gw.wso2.com", headers: ["Internal-Key": internalKey])
        #expect(viaKey.status == 200, "\(viaKey.text)")
        let keyHeaders = try viaKey.json()["headers"] as? [String: Any] ?? [:]
        #expect(keyHeaders.contains { $0.key.lowercased() == "x-jwt-assertion" })
        #expect(!keyHeaders.contains { $0.key.lowercased() == "internal-key" })

        // The operation with its own backend JWT: that one, not the API's.
        let own = try await stack.call("/\(name)/1.0.0/own", host: "gw.wso2.com", headers: ["Authorization": "Bearer \(token)"])
        #expect(own.status == 200, "\(own.text)")
        let ownHeaders = try own.json()["headers"] as? [String: Any] ?? [:]
        #expect(!ownHeaders.contains { $0.key.lowercased() == "x-jwt-assertion" }, "\(ownHeaders.keys)")
        let ownToken = try #require(ownHeaders.first { $0.key.lowercased() == "x-op-jwt" }?.value as? String, "\(ownHeaders.keys)")
        let ownClaims = try CompactJWS.parse(ownToken).claims
        #expect(ownClaims["scope-of"] == "operation" && ownClaims["department"] == nil)
        #expect(ownClaims["exp"]?.intValue.map { $0 - Int(Date().timeIntervalSince1970) } ?? 0 <= 60)

        // Denials are still the native (or enforcer) ones, before any token is signed.
        let missing = try await stack.call("/\(name)/1.0.0/get", host: "gw.wso2.com", credentials: false)
        #expect(missing.status == 401 && missing.text.contains("900903"), "\(missing.text)")

        // Enforcer down: the backend-JWT route fails closed (503 102517) for a credential the gateway has no token
        // for; the unsecured one still answers. (The Lua stage keeps serving the credentials it holds tokens for.)
        let fresh = try await Self.flow.token(stack.deployer)
        #expect(fresh != token)
        stack.stopEnforcer()
        let closed = try await stack.call(
            "/\(name)/1.0.0/get", host: "gw.wso2.com", headers: ["Authorization": "Bearer \(fresh)"])
        #expect(closed.status == 503 && closed.text.contains("102517"), "\(closed.text)")
        #expect(try await stack.call("/\(name)/1.0.0/open", host: "gw.wso2.com").status == 200)
    }
}
