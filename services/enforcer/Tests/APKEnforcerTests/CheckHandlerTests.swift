import APKAuth
import APKAuthPlan
import APKEnforcer
import APKModel
import APKTestTokens
import EnvoyProtos
import Foundation
import Testing

/// The enforcer's `Check` as Envoy sends it (context extension with the route's plan, raw header entries) and what
/// Envoy must get back: allow with the headers to drop, or the exact §7.6 denial (status, headers, body).
@Suite struct CheckHandlerTests {
    static let issuer = "https://idp.am.wso2.com/token"
    static let internalIssuer = "https://idp.am.wso2.com/internal-key"
    let tokens: TokenFactory
    let keys: TrustedKeys
    let plan: RoutePlan

    init() throws {
        tokens = try TokenFactory(issuer: Self.issuer, internalIssuer: Self.internalIssuer, now: Date().timeIntervalSince1970)
        let entry = TrustedKeys.Entry(kid: tokens.keyID, key: tokens.verificationKey)
        keys = TrustedKeys(accessTokenIssuers: [Self.issuer: [entry]], internalKeyIssuer: Self.internalIssuer, internalKeys: [entry])
        plan = RoutePlan(
            api: try AuthPlanBuilder.api(id: "orders-api", organization: "default", authentication: nil, policy: nil),
            operation: OperationAuthPlan(target: "/orders/{id}", secured: true, scopes: ["orders:read"]),
            keyType: .production)
    }

    func request(_ headers: [(String, String)], plan: String?, method: String = "GET") -> Envoy_Service_Auth_V3_CheckRequest {
        var request = Envoy_Service_Auth_V3_CheckRequest()
        request.attributes.request.http.method = method
        request.attributes.request.http.path = "/orders-api/1.0.0/orders/7"
        request.attributes.request.http.headerMap.headers = headers.map { name, value in
            var header = Envoy_Config_Core_V3_HeaderValue()
            header.key = name.lowercased()
            header.rawValue = Data(value.utf8)
            return header
        }
        if let plan { request.attributes.contextExtensions[RoutePlan.contextKey] = plan }
        return request
    }

    func check(_ headers: [(String, String)], plan text: String? = nil) throws -> (Envoy_Service_Auth_V3_CheckResponse, CheckHandler.Outcome) {
        let encoded = try text ?? plan.encoded()
        return CheckHandler().check(request(headers, plan: encoded), keys: keys, now: tokens.now)
    }

    func header(_ response: Envoy_Service_Auth_V3_CheckResponse, _ name: String) -> String? {
        response.deniedResponse.headers.first { $0.header.key == name }?.header.value
    }

    @Test func validTokenIsAllowedAndGatewayHeadersAreDropped() throws {
        let (response, outcome) = try check([
            ("Authorization", "Bearer " + tokens.token()), ("x-apk-identity", "admin"), ("internal-key", "anything"),
        ])
        #expect(outcome == .allowed)
        #expect(response.status.code == 0)
        #expect(response.okResponse.headersToRemove == ["internal-key", "x-apk-identity"])
    }

    @Test func missingCredentialIsTheExact401() throws {
        let (response, outcome) = try check([])
        #expect(outcome == .denied(reason: "missing"))
        #expect(response.status.code == 16)
        #expect(response.deniedResponse.status.code == .unauthorized)
        #expect(response.deniedResponse.body == Denial.invalidCredentials.body)
        #expect(response.deniedResponse.body.contains(#""code": 900903"#))
        #expect(header(response, "content-type") == "Application/json")
        #expect(header(response, "www-authenticate") == #"Bearer realm="APK""#)
        #expect(response.deniedResponse.headers.allSatisfy { $0.appendAction == .overwriteIfExistsOrAdd })
    }

    @Test func tokenWithoutTheScopeIsThe900910Denial() throws {
        let writer = tokens.token(tokens.claims([("scope", "orders:write")]))
        let (response, outcome) = try check([("Authorization", "Bearer " + writer)])
        #expect(outcome == .denied(reason: "missing_scope"))
        #expect(response.status.code == 7)
        #expect(response.deniedResponse.status.code == .forbidden)
        #expect(response.deniedResponse.body == Denial.missingScope(target: "/orders/{id}").body)
        #expect(header(response, "www-authenticate") == nil)
    }

    /// Every hostile input of the issue's list is refused with 401 900903 by the handler too (the evaluator's own
    /// table is in APKAuthPlanTests; this holds the ext_authz translation to it, raw header entries included).
    @Test func hostileInputIsRefused() throws {
        for item in tokens.hostileCases(api: "orders-api", otherAPI: "other-api") {
            let (response, outcome) = try check(item.headers)
            #expect(response.deniedResponse.status.code == .unauthorized, "\(item.name)")
            #expect(response.deniedResponse.body == Denial.invalidCredentials.body, "\(item.name)")
            guard case .denied = outcome else {
                Issue.record("\(item.name): \(outcome)")
                continue
            }
        }
    }

    @Test func aTokenSentTwiceIsAmbiguousButTheKeyStillCounts() throws {
        let token = "Bearer " + tokens.token()
        let (twice, _) = try check([("Authorization", token), ("Authorization", token)])
        #expect(twice.deniedResponse.status.code == .unauthorized)
        let key = tokens.internalKey(api: "orders-api")
        let (withKey, outcome) = try check([("Authorization", token), ("Authorization", token), ("Internal-Key", key)])
        #expect(outcome == .allowed)
        #expect(withKey.okResponse.headersToRemove == ["internal-key"])
    }

    @Test func aRouteWithoutAReadablePlanFailsClosed() throws {
        for text in [nil, "", "{}", "not json", String(repeating: "a", count: RoutePlan.maxEncodedBytes + 1)] {
            let encoded = text
            let request = request([("Authorization", "Bearer " + tokens.token())], plan: encoded)
            let (response, outcome) = CheckHandler().check(request, keys: keys, now: tokens.now)
            #expect(outcome == .noPlan, "\(String(describing: text?.prefix(20)))")
            #expect(response.deniedResponse.status.code == .internalServerError)
            #expect(response.status.code != 0)
        }
    }

    /// Without `encode_raw_headers` Envoy sends a map; the credential in it decides the same way.
    @Test func headersFromTheMapWhenEnvoySendsNoRawEntries() throws {
        var request = request([], plan: try plan.encoded())
        request.attributes.request.http.clearHeaderMap()
        request.attributes.request.http.headers = ["authorization": "Bearer " + tokens.token()]
        #expect(CheckHandler().check(request, keys: keys, now: tokens.now).outcome == .allowed)
        request.attributes.request.http.headers = ["authorization": "Bearer x.y.z"]
        #expect(CheckHandler().check(request, keys: keys, now: tokens.now).outcome != .allowed)
    }

    @Test func planRoundTripsThroughItsContextText() throws {
        let text = try plan.encoded()
        #expect(RoutePlan.decode(text) == plan)
        #expect(try plan.encoded() == text, "deterministic: equal plans give equal route configurations")
        #expect(!text.contains("\n"))
    }
}
