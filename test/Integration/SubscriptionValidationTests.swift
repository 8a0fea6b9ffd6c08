import APKAuth
import APKAuthPlan
import APKModel
import APKStore
import APKTestSupport
import APKTestTokens
import Foundation
import Testing

/// Subscription validation through a real Envoy, in both enforcement modes (contract §7.5): an API with
/// `subscriptionValidation: true` refuses an authenticated caller whose application holds no subscription with
/// 403 900908, and lets it through once an `Application`, a `Subscription` to the API's name and version and an
/// `ApplicationMapping` are in the store (written there as `kubectl apply` would) — no redeploy; a `BLOCKED`
/// subscription refuses again, `PROD_ONLY_BLOCKED` refuses on production only. API keys count by their
/// `application.uuid`; internal keys are not subscription-checked; a scope refusal stays 900910.
@Suite(.enabled(if: GatewayStack.available, SkipMessage.gateway), .serialized)
struct SubscriptionValidationTests {
    static let testIssuer = "https://issuer.test.example"
    static let apiKeyIssuer = "https://apim.test.example/publisher"
    static let flow = DeployerFlowTests()

    @Test(arguments: [GatewayStack.Enforcement.native, .enforcer])
    func onlySubscribedApplicationsGetThrough(mode: GatewayStack.Enforcement) async throws {
        let tokens = try TokenFactory(
            issuer: Self.testIssuer, internalIssuer: "https://idp.am.wso2.com/internal-key", now: Date().timeIntervalSince1970)
        let stack = try await GatewayStack(
            label: "subs-\(mode.rawValue)", testIssuer: (Self.testIssuer, tokens.jwks), apiKeyIssuer: Self.apiKeyIssuer,
            enforcement: mode)
        defer { stack.stop() }
        let deployerToken = try await Self.flow.token(stack.deployer)
        let name = "gw-subs-\(UUID().uuidString.prefix(6).lowercased())"
        let id = try await TestAPI(
            name: name,
            operations: [
                .init(verb: "GET", target: "/orders"), .init(verb: "GET", target: "/admin", extra: #"scopes: ["orders:admin"]"#),
                .init(verb: "GET", target: "/open", extra: "secured: false"),
            ],
            extraConf: """
                subscriptionValidation: true
                authentication:
                  - {authType: OAuth2}
                  - {authType: APIKey, headerName: apikey}
                """
        ).deploy(stack, token: deployerToken)
        try await stack.waitFor("/\(name)/1.0.0/open", host: "gw.wso2.com", status: 200)
        let internalKey = try await Self.flow.internalKey(stack.deployer, token: deployerToken, api: id)
        let bearer = ["Authorization": "Bearer " + tokens.token(tokens.claims([("azp", "client-a")]))]
        let apiKey = ["apikey": tokens.token(tokens.claims([("application", ["uuid": "app-1"])], issuer: Self.apiKeyIssuer))]
        let otherKey = ["apikey": tokens.token(tokens.claims([("application", ["uuid": "app-2"])], issuer: Self.apiKeyIssuer))]
        func call(_ path: String, _ headers: [String: String]) async throws -> HTTP.Response {
            try await stack.call("/\(name)/1.0.0\(path)", host: "gw.wso2.com", headers: headers, credentials: false)
        }

        // Not subscribed: 403 with the §7.6 900908 body; an internal key is not subscription-checked.
        let refused = try await call("/orders", bearer)
        #expect(refused.status == 403 && refused.text == Denial.notSubscribed.body, "\(mode): \(refused.status) \(refused.text)")
        #expect(try await call("/orders", apiKey).text == Denial.notSubscribed.body)
        #expect(try await call("/orders", ["Internal-Key": internalKey]).status == 200)
        // A spoofed stage header does not help (client x-apk-* headers are dropped first).
        var spoofed = bearer
        spoofed["X-APK-Consumer-Key"] = "client-a"
        #expect(try await call("/orders", spoofed).status == 403)

        // Subscribe application app-1 (client-a in production) to the API: no redeploy needed.
        try await GatewayFlowTests().withStore { store in
            for resource in Self.subscription(apiName: name, status: "ACTIVE") {
                _ = try await store.resources.applyResource(resource, namespace: stack.namespace)
            }
        }
        #expect(try await Poll.until(every: .milliseconds(50)) { try await call("/orders", bearer).status == 200 },
                "\(mode): the subscription reaches the gateway")
        #expect(try await call("/orders", apiKey).status == 200, "the API key of the subscribed application")
        #expect(try await call("/orders", otherKey).text == Denial.notSubscribed.body, "another application")
        let scope = try await call("/admin", bearer)
        #expect(scope.status == 403 && scope.text.contains("900910"), "a scope refusal stays a scope refusal: \(scope.text)")
        // The stage's headers never reach the backend.
        let echoed = try await call("/orders", bearer).json()["headers"] as? [String: Any] ?? [:]
        #expect(!echoed.keys.contains { $0.lowercased().hasPrefix("x-apk-") }, "\(echoed.keys)")

        // Blocked: refused again.
        try await GatewayFlowTests().withStore { store in
            for resource in Self.subscription(apiName: name, status: "BLOCKED") {
                _ = try await store.resources.applyResource(resource, namespace: stack.namespace)
            }
        }
        #expect(try await Poll.until(every: .milliseconds(50)) { try await call("/orders", bearer).status == 403 },
                "\(mode): the blocked subscription reaches the gateway")
        #expect(try await call("/orders", apiKey).text == Denial.notSubscribed.body)
    }

    /// Application `app-1` (client `client-a` for production in environment `Default`), its subscription to
    /// `apiName` 1.0.0 and the mapping between them.
    static func subscription(apiName: String, status: String) -> [K8sResource] {
        func resource(_ kind: String, _ version: String, _ name: String, _ spec: JSONObject) -> K8sResource {
            K8sResource(apiVersion: "cp.wso2.com/\(version)", kind: kind, metadata: ObjectMeta(name: name), body: JSONObject([("spec", .object(spec))]))
        }
        return [
            resource("Application", "v1alpha2", "app-1", JSONObject([
                ("name", "shop"), ("owner", "alice"), ("organization", "default"),
                ("securitySchemes", .object(JSONObject([("oauth2", .object(JSONObject([("environments", .array([
                    .object(JSONObject([("envId", "Default"), ("appId", "client-a"), ("keyType", "PRODUCTION")])),
                ]))])))]))),
            ])),
            resource("Subscription", "v1alpha3", "sub-1", JSONObject([
                ("subscriptionStatus", .string(status)), ("organization", "default"),
                ("api", .object(JSONObject([("name", .string(apiName)), ("version", "1.0.0")]))),
            ])),
            resource("ApplicationMapping", "v1alpha2", "map-1", JSONObject([("applicationRef", "app-1"), ("subscriptionRef", "sub-1")])),
        ]
    }
}
