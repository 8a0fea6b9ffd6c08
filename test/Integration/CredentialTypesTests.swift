import APKAuth
import APKAuthPlan
import APKModel
import APKTestSupport
import APKTestTokens
import Foundation
import Testing

/// API keys (header and query parameter) and the JWT auth type through a real Envoy, in both enforcement modes,
/// against the evaluator (contract §4.4, §7.3): an API with OAuth2, API keys and the JWT type; API keys signed by an
/// API-key issuer the gateway trusts (`AUTH_API_KEY_ISSUERS`), JWT-type tokens by an access-token issuer. Each case
/// must get the same status, code and body from Envoy in each mode as from `AuthEvaluator`; allowed requests must
/// reach the backend without the credentials the API does not forward (the query key included).
@Suite(.enabled(if: GatewayStack.available, SkipMessage.gateway), .serialized)
struct CredentialTypesTests {
    static let testIssuer = "https://issuer.test.example"
    static let apiKeyIssuer = "https://apim.test.example/publisher"
    static let flow = DeployerFlowTests()
    static let authentication = """
        authentication:
          - {authType: OAuth2, headerName: Authorization}
          - {authType: APIKey, headerName: ApiKey, headerEnable: true, queryParamName: apiKey, queryParamEnable: true}
          - {authType: JWT, headerName: X-JWT, audience: [orders]}
        """

    @Test(arguments: [GatewayStack.Enforcement.native, .enforcer])
    func apiKeysAndTheJWTTypeAnswerAsTheEvaluator(mode: GatewayStack.Enforcement) async throws {
        let tokens = try TokenFactory(
            issuer: Self.testIssuer, internalIssuer: "https://idp.am.wso2.com/internal-key", now: Date().timeIntervalSince1970)
        let stack = try await GatewayStack(
            label: "creds-\(mode.rawValue)", testIssuer: (Self.testIssuer, tokens.jwks), apiKeyIssuer: Self.apiKeyIssuer,
            enforcement: mode,
            // enforcer mode sends the enforcer only the credential headers it is told of
            environment: ["AUTH_OAUTH2_HEADERS": "authorization,x-jwt"])
        defer { stack.stop() }
        let deployerToken = try await Self.flow.token(stack.deployer)
        let name = "gw-creds-\(UUID().uuidString.prefix(6).lowercased())"
        let id = try await TestAPI(
            name: name,
            operations: [
                .init(verb: "GET", target: "/orders/{id}", extra: #"scopes: ["orders:read"]"#),
                .init(verb: "GET", target: "/open", extra: "secured: false"),
            ],
            extraConf: Self.authentication
        ).deploy(stack, token: deployerToken)
        try await stack.waitFor("/\(name)/1.0.0/open", host: "gw.wso2.com", status: 200)
        let key = try await Self.flow.internalKey(stack.deployer, token: deployerToken, api: id)

        // The plan the deployer's Authentication gives (what BundleContext writes for this apk-conf).
        let plan = try AuthPlanBuilder.api(
            id: id, organization: "default",
            authentication: AuthenticationSpec(
                default: .init(disabled: false, authTypes: .init(
                    oauth2: .init(header: "Authorization", sendTokenToUpstream: false, disabled: false, required: "mandatory"),
                    jwt: .init(header: "X-JWT", sendTokenToUpstream: false, disabled: false, audience: ["orders"]),
                    apiKey: .init(required: "optional", keys: [
                        .init(in: "Header", name: "ApiKey", sendTokenToUpstream: false),
                        .init(in: "Query", name: "apiKey", sendTokenToUpstream: false),
                    ]))),
                targetRef: .init(group: "gateway.networking.k8s.io", kind: "API", name: id)),
            policy: nil)
        let jwks = try await HTTP.send("GET", "\(stack.deployer.baseURL)/oauth2/jwks", headers: [:], body: nil)
        let deployerKeys = try #require(VerificationKey.keys(fromJWKS: Array(jwks.body))).map {
            TrustedKeys.Entry(kid: $0.kid, key: $0.key)
        }
        let testKeys = [TrustedKeys.Entry(kid: tokens.keyID, key: tokens.verificationKey)]
        let keys = TrustedKeys(
            accessTokenIssuers: ["https://idp.am.wso2.com/token": deployerKeys, Self.testIssuer: testKeys],
            internalKeyIssuer: "https://idp.am.wso2.com/internal-key", internalKeys: deployerKeys,
            apiKeyIssuers: [Self.apiKeyIssuer: testKeys])
        let operation = OperationAuthPlan(target: "/orders/(.*)", secured: true, scopes: ["orders:read"])

        func apiKey(_ extra: [(String, JSONValue)] = []) -> String {
            tokens.token(tokens.claims(extra, issuer: Self.apiKeyIssuer))
        }
        let jwt = tokens.token(tokens.claims([("aud", "orders"), ("scope", .null)]))
        struct Case {
            var name: String
            var headers: [(String, String)] = []
            var query: String = ""
            var status: Int
        }
        let cases = [
            Case(name: "API key in its header", headers: [("ApiKey", apiKey())], status: 200),
            Case(name: "API key in its query parameter", query: "?x=1&apiKey=\(apiKey())", status: 200),
            Case(name: "API key for production on production", headers: [("apikey", apiKey([("keytype", "PRODUCTION")]))], status: 200),
            Case(name: "sandbox API key on production", headers: [("apikey", apiKey([("keytype", "SANDBOX")]))], status: 401),
            Case(name: "query key with another case", query: "?apikey=\(apiKey())", status: 401),
            Case(name: "access token as an API key", headers: [("apikey", tokens.token())], status: 401),
            Case(name: "internal key as an API key", headers: [("apikey", key)], status: 401),
            Case(name: "API key as a bearer token", headers: [("Authorization", "Bearer " + apiKey())], status: 401),
            Case(name: "expired API key", headers: [("apikey", apiKey([("exp", .int(Int(tokens.now) - 3600))]))], status: 401),
            Case(name: "bad bearer token and a valid API key", headers: [("Authorization", "Bearer x.y.z"), ("apikey", apiKey())], status: 200),
            Case(name: "JWT type with the audience", headers: [("X-JWT", jwt)], status: 200),
            Case(name: "JWT type with an audience array", headers: [("X-JWT", tokens.token(tokens.claims([("aud", ["x", "orders"])])))], status: 200),
            Case(name: "JWT type with another audience", headers: [("X-JWT", tokens.token(tokens.claims([("aud", "elsewhere")])))], status: 401),
            Case(name: "JWT type with a Bearer prefix", headers: [("X-JWT", "Bearer " + jwt)], status: 401),
            Case(name: "internal key as the JWT type", headers: [("X-JWT", key)], status: 401),
            Case(name: "API key as the JWT type", headers: [("X-JWT", apiKey([("aud", "orders")]))], status: 401),
            Case(name: "OAuth2 still works", headers: [("Authorization", "Bearer " + tokens.token())], status: 200),
            Case(name: "this API's internal key", headers: [("Internal-Key", key)], status: 200),
            Case(name: "nothing", status: 401),
        ]
        var differences: [String] = []
        for item in cases {
            let path = "/\(name)/1.0.0/orders/7\(item.query)"
            let answer = try await stack.call(path, host: "gw.wso2.com", credentials: false, repeatedHeaders: item.headers)
            let decision = AuthEvaluator.decide(
                api: plan, operation: operation, keyType: .production,
                request: AuthRequest(
                    method: "GET", headers: item.headers.map { (name: $0.0, value: $0.1) }, path: "/orders/7\(item.query)"),
                keys: keys, now: Date().timeIntervalSince1970)
            let expected: (status: Int, body: String?) = switch decision {
            case .allow: (200, nil)
            case .deny(let denial, _): (denial.status, denial.body)
            }
            if answer.status != item.status || expected.status != item.status
                || (expected.body.map { $0 != answer.text } ?? false)
            {
                differences.append("\(mode) \(item.name): Envoy \(answer.status), evaluator \(expected.status), wanted \(item.status)")
                continue
            }
            guard answer.status == 200 else { continue }
            // What reached the backend: no credential the API does not forward.
            let echo = try answer.json()
            let headers = Set((echo["headers"] as? [String: Any] ?? [:]).keys.map { $0.lowercased() })
            let args = (echo["args"] as? [String: Any] ?? [:]).keys
            #expect(headers.isDisjoint(with: ["apikey", "x-jwt", "authorization", "internal-key"]), "\(mode) \(item.name): \(headers)")
            #expect(!args.contains("apiKey"), "\(mode) \(item.name): the query key reached the backend")
            if !item.query.isEmpty { #expect(args.contains("x"), "\(mode) \(item.name): other parameters are kept") }
        }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
    }
}
