import APKAuth
import APKAuthPlan
import APKModel
import APKTestSupport
import APKTestTokens
import Foundation
import Testing

/// Every way the gateway decides a request must give the same answer: the Swift evaluator (`AuthEvaluator`), Envoy's
/// native filters as the adapter compiles the plan (`native` mode), and `apk-enforcer` called by Envoy over ext_authz
/// (`enforcer` mode). Every request of the issue's hostile list, plus valid and mixed credentials, goes through a
/// real Envoy in each mode and through the evaluator with the keys the router trusts (the deployer's JWKS and a test
/// issuer's key); status, code and body must be equal.
@Suite(.enabled(if: GatewayStack.available, SkipMessage.gateway), .serialized)
struct AuthDifferentialTests {
    static let testIssuer = "https://issuer.test.example"
    static let flow = DeployerFlowTests()

    @Test func evaluatorNativeFiltersAndEnforcerAnswerTheSame() async throws {
        let tokens = try TokenFactory(
            issuer: Self.testIssuer, internalIssuer: "https://idp.am.wso2.com/internal-key",
            now: Date().timeIntervalSince1970)
        var answers: [GatewayStack.Enforcement: [String]] = [:]
        for mode in [GatewayStack.Enforcement.native, .enforcer] {
            answers[mode] = try await compare(mode: mode, tokens: tokens)
        }
        #expect(answers[.native] == answers[.enforcer], "both modes answer each case alike (status, code)")
    }

    /// Runs every case through a stack in `mode` and through the evaluator; returns "case: status code" per case.
    func compare(mode: GatewayStack.Enforcement, tokens: TokenFactory) async throws -> [String] {
        let stack = try await GatewayStack(label: "diff-\(mode.rawValue)", testIssuer: (Self.testIssuer, tokens.jwks), enforcement: mode)
        defer { stack.stop() }
        let deployerToken = try await Self.flow.token(stack.deployer)
        let name = "gw-diff-\(UUID().uuidString.prefix(6).lowercased())"
        let other = "gw-diff2-\(UUID().uuidString.prefix(6).lowercased())"
        let id = try await deploy(stack, token: deployerToken, name: name)
        let otherID = try await deploy(stack, token: deployerToken, name: other)
        try await stack.waitFor("/\(name)/1.0.0/open", host: "gw.wso2.com", status: 200)
        try await stack.waitFor("/\(other)/1.0.0/open", host: "gw.wso2.com", status: 200)
        let key = try await Self.flow.internalKey(stack.deployer, token: deployerToken, api: id)
        let otherKey = try await Self.flow.internalKey(stack.deployer, token: deployerToken, api: otherID)

        // The keys the router trusts, as the evaluator gets them: the deployer's JWKS and the test issuer's key.
        let jwks = try await HTTP.send("GET", "\(stack.deployer.baseURL)/oauth2/jwks", headers: [:], body: nil)
        let deployerKeys = try #require(VerificationKey.keys(fromJWKS: Array(jwks.body))).map {
            TrustedKeys.Entry(kid: $0.kid, key: $0.key)
        }
        let keys = TrustedKeys(
            accessTokenIssuers: [
                "https://idp.am.wso2.com/token": deployerKeys,
                Self.testIssuer: [TrustedKeys.Entry(kid: tokens.keyID, key: tokens.verificationKey)],
            ],
            internalKeyIssuer: "https://idp.am.wso2.com/internal-key", internalKeys: deployerKeys)
        let plan = try AuthPlanBuilder.api(id: id, organization: "default", authentication: nil, policy: nil)
        let operation = OperationAuthPlan(target: "/orders/(.*)", secured: true, scopes: ["orders:read"])

        let writeOnly = tokens.token(tokens.claims([("scope", "orders:write")]))
        var cases = tokens.hostileCases(api: id, otherAPI: otherID)
        cases += [
            HostileCase(name: "valid test-issuer token with the scope", headers: [("Authorization", "Bearer " + tokens.token())]),
            HostileCase(name: "valid token without the scope", headers: [("Authorization", "Bearer " + writeOnly)]),
            HostileCase(name: "deployer token without the scope", headers: [("Authorization", "Bearer " + deployerToken)]),
            HostileCase(name: "this API's internal key", headers: [("Internal-Key", key)]),
            HostileCase(name: "another API's internal key", headers: [("Internal-Key", otherKey)]),
            HostileCase(name: "internal key and a bad token", headers: [("Internal-Key", key), ("Authorization", "Bearer x.y.z")]),
            HostileCase(
                name: "valid token and another API's key",
                headers: [("Authorization", "Bearer " + tokens.token()), ("Internal-Key", otherKey)]),
            HostileCase(
                name: "scope-less token and this API's key",
                headers: [("Authorization", "Bearer " + writeOnly), ("Internal-Key", key)]),
            HostileCase(name: "lower-case bearer scheme", headers: [("Authorization", "bearer " + tokens.token())]),
            HostileCase(
                name: "token sent twice",
                headers: [("Authorization", "Bearer " + tokens.token()), ("Authorization", "Bearer " + tokens.token())]),
            HostileCase(name: "scp array instead of scope", headers: [("Authorization", "Bearer " + tokens.token(
                tokens.claims([("scope", .null), ("scp", .array(["orders:read"]))])))]),
            HostileCase(name: "iat in the future", headers: [("Authorization", "Bearer " + tokens.token(
                tokens.claims([("iat", .int(Int(tokens.now) + 3600))])))]),
            HostileCase(name: "spoofed x-apk header only", headers: [("X-APK-Auth", "ok")]),
            HostileCase(
                name: "access token with the internal-key audience",
                headers: [("Authorization", "Bearer " + tokens.token(tokens.claims([("aud", "apk-internal-key")])))]),
        ]

        var differences: [String] = []
        var headerLimit: [String] = []
        var summary: [String] = []
        for item in cases {
            // HTTP/1.1: an oversized header block is a 431 answer there (HTTP/2 resets the stream instead).
            let native = try await stack.call(
                "/\(name)/1.0.0/orders/7", host: "gw.wso2.com", http1: true, credentials: false,
                repeatedHeaders: item.headers)
            let nativeCode = (try? native.json())?["code"] as? Int
            summary.append("\(item.name): \(native.status) \(nativeCode.map(String.init) ?? "-")")
            let decision = AuthEvaluator.decide(
                api: plan, operation: operation, keyType: .production,
                request: AuthRequest(method: "GET", headers: item.headers.map { (name: $0.0, value: $0.1) }), keys: keys,
                now: Date().timeIntervalSince1970)
            let expected: (status: Int, code: Int?, body: String?) = switch decision {
            case .allow: (200, nil, nil)
            case .deny(let denial, _): (denial.status, denial.code, denial.body)
            }
            if native.status == 431, expected.status == 401 {
                headerLimit.append(item.name)  // Envoy refuses headers over 60 KiB before any filter runs
                continue
            }
            if native.status != expected.status || nativeCode != expected.code
                || (expected.body.map { $0 != native.text } ?? false) {
                differences.append(
                    "\(mode) \(item.name): Envoy \(native.status) \(nativeCode.map(String.init) ?? "-"), evaluator \(expected.status) "
                        + "\(expected.code.map(String.init) ?? "-")")
            }
        }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        #expect(Set(headerLimit).isSubset(of: ["64 KiB token", "10,000 claims"]), "\(mode): \(headerLimit)")
        return summary
    }

    func deploy(_ stack: GatewayStack, token: String, name: String) async throws -> String {
        try await TestAPI(name: name, operations: [
            .init(verb: "GET", target: "/orders/{id}", extra: #"scopes: ["orders:read"]"#),
            .init(verb: "GET", target: "/open", extra: "secured: false"),
        ]).deploy(stack, token: token)
    }
}
