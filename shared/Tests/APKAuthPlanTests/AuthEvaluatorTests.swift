import APKAuth
import APKAuthPlan
import APKModel
import Crypto
import CryptoExtras
import Foundation
import APKTestTokens
import Testing

/// The evaluator's tokens on a fixed clock (APKTestTokens; one RSA key pair per process).
let F = try! TokenFactory(
    issuer: "https://idp.am.wso2.com/token", internalIssuer: "https://idp.am.wso2.com/internal-key", now: 1_800_000_000)

extension TokenFactory {
    /// The keys the evaluator trusts: the factory's key for access tokens and internal keys.
    var keys: TrustedKeys {
        let entry = TrustedKeys.Entry(kid: keyID, key: verificationKey)
        return TrustedKeys(accessTokenIssuers: [issuer: [entry]], internalKeyIssuer: internalIssuer, internalKeys: [entry])
    }
}

extension HostileCase {
    static var all: [HostileCase] { F.hostileCases(api: "api-1", otherAPI: "api-2") }
}

@Suite("Auth evaluator")
struct AuthEvaluatorTests {

    let api = try! AuthPlanBuilder.api(id: "api-1", organization: "default", authentication: nil, policy: nil)
    let operation = OperationAuthPlan(target: "/orders/1.0/orders/(.*)", secured: true, scopes: ["orders:read"])

    func decide(
        _ headers: [(String, String)], method: String = "GET", operation: OperationAuthPlan? = nil,
        keyType: KeyType = .production
    ) -> Decision {
        AuthEvaluator.decide(
            api: api, operation: operation ?? self.operation, keyType: keyType,
            request: AuthRequest(method: method, headers: headers.map { (name: $0.0, value: $0.1) }),
            keys: F.keys, now: F.now)
    }

    func denial(_ decision: Decision) -> Denial? {
        if case .deny(let denial, _) = decision { denial } else { nil }
    }

    @Test("a valid access token with the scopes, and a valid internal key, are allowed")
    func allowed() throws {
        guard case .allow(let allowance) = decide([("Authorization", "Bearer " + F.token())]) else {
            Issue.record("denied")
            return
        }
        #expect(allowance.identity?.kind == .oauth2)
        #expect(allowance.identity?.subject == "alice")
        guard case .allow(let viaKey) = decide([("Internal-Key", F.internalKey(api: "api-1"))]) else {
            Issue.record("internal key denied")
            return
        }
        #expect(viaKey.identity?.kind == .internalKey)
        // The header name is case-insensitive; the scheme is matched exactly, as Envoy's jwt_authn does.
        #expect(denial(decide([("authorization", "Bearer " + F.token())])) == nil)
        #expect(denial(decide([("Authorization", "bearer " + F.token())]))?.code == 900903)
    }

    /// The hostile inputs of issue 11: each is 401 900903 with the exact §7.6 body and the challenge.
    @Test("hostile credentials are refused with 401 900903", arguments: HostileCase.all)
    func hostile(_ item: HostileCase) throws {
        let refused = try #require(denial(decide(item.headers)), "\(item.name) was allowed")
        #expect(refused.status == 401, "\(item.name)")
        #expect(refused.code == 900903, "\(item.name)")
        #expect(refused.headers == [Denial.challenge])
    }

    @Test("a token without every scope of the operation is 403 900910 with the resource in the description")
    func scopes() throws {
        let all = OperationAuthPlan(target: "/orders/1.0/orders", secured: true, scopes: ["orders:read", "admin"])
        let refused = try #require(denial(decide([("Authorization", "Bearer " + F.token())], operation: all)))
        #expect(refused.status == 403)
        #expect(refused.code == 900910)
        #expect(refused.body == """
            {
              "error_message": "The access token does not allow you to access the requested resource",
              "code": 900910,
              "error_description": "User is NOT authorized to access the Resource: /orders/1.0/orders. Scope validation failed."
            }
            """)
        // Scopes given as an array also count; a token with no scope claim at all is refused the same way.
        let array = F.token(F.claims([("scope", ["orders:read", "admin"])]))
        #expect(denial(decide([("Authorization", "Bearer " + array)], operation: all)) == nil)
        var none = F.claims()
        none["scope"] = nil
        #expect(denial(decide([("Authorization", "Bearer " + F.token(none))]))?.code == 900910)
        // Internal keys carry no scopes and are not scope-checked.
        #expect(denial(decide([("Internal-Key", F.internalKey(api: "api-1"))], operation: all)) == nil)
        // The first valid credential decides, as jwt_authn's requires_any: a valid token without the scope is 403
        // although a valid internal key follows it.
        let both = [("Authorization", "Bearer " + F.token()), ("Internal-Key", F.internalKey(api: "api-1"))]
        #expect(denial(decide(both, operation: all))?.code == 900910)
        // Only the `scope` claim counts (what jwt_authn normalises), not `scp`.
        var scp = F.claims([("scp", ["orders:read"])])
        scp["scope"] = nil
        #expect(denial(decide([("Authorization", "Bearer " + F.token(scp))]))?.code == 900910)
    }

    @Test("what jwt_authn does not check is not checked here either: iat, and the audience of access tokens")
    func sameRulesAsTheRouter() {
        let future = F.token(F.claims([("iat", .int(Int(F.now) + 3600))]))
        #expect(denial(decide([("Authorization", "Bearer " + future)])) == nil)
        let audience = F.token(F.claims([("aud", "apk-internal-key")]))
        #expect(denial(decide([("Authorization", "Bearer " + audience)])) == nil)
    }

    @Test("missing credentials: the exact 401 body of contract §7.6")
    func missing() throws {
        let refused = try #require(denial(decide([])))
        #expect(refused.body == """
            {
              "error_message": "Invalid Credentials",
              "code": 900903,
              "error_description": "Make sure you have provided the correct security credentials"
            }
            """)
        #expect(Denial.contentType == "Application/json")
    }

    @Test("OPTIONS, unsecured operations and disabled APIs pass without credentials")
    func open() throws {
        #expect(denial(decide([], method: "OPTIONS")) == nil)
        #expect(denial(decide([], operation: OperationAuthPlan(target: "/x", secured: false, scopes: []))) == nil)
        var disabled = api
        disabled.disabled = true
        let decision = AuthEvaluator.decide(
            api: disabled, operation: operation, keyType: .production, request: AuthRequest(method: "GET", headers: []),
            keys: F.keys, now: F.now)
        #expect(denial(decision) == nil)
    }

    @Test("client-sent x-apk-* headers are always removed; tokens not sent upstream are removed")
    func stripping() throws {
        guard case .allow(let allowance) = decide([
            ("Authorization", "Bearer " + F.token()), ("X-APK-Consumer-Key", "spoofed"), ("x-apk-keytype", "SANDBOX"),
        ]) else {
            Issue.record("denied")
            return
        }
        #expect(allowance.removeHeaders == ["x-apk-consumer-key", "x-apk-keytype"])
        let hidden = try AuthPlanBuilder.api(
            id: "api-1", organization: "default",
            authentication: AuthenticationSpec(
                default: .init(authTypes: .init(oauth2: .init(
                    header: "Authorization", sendTokenToUpstream: false, disabled: false, required: "mandatory"))),
                targetRef: .init(group: "gateway.networking.k8s.io", kind: "API", name: "api-1")),
            policy: nil)
        let decision = AuthEvaluator.decide(
            api: hidden, operation: operation, keyType: .production,
            request: AuthRequest(method: "GET", headers: [("Authorization", "Bearer " + F.token())]), keys: F.keys,
            now: F.now)
        guard case .allow(let removed) = decision else {
            Issue.record("denied")
            return
        }
        #expect(removed.removeHeaders == ["authorization"])
    }

    @Test("each refusal names its reason for logs and metrics", arguments: [
        ("expired", "expired"), ("alg none", "unsupported_algorithm"), ("wrong issuer", "unknown_issuer"),
        ("unknown kid", "unknown_key"), ("tampered payload", "bad_signature"), ("64 KiB token", "malformed"),
        ("internal key of another API", "internal_key_of_another_api"),
        ("sandbox internal key on production", "internal_key_of_another_environment"),
        ("internal key sent as a bearer token", "unknown_issuer"),
        ("access token sent as an internal key", "unknown_issuer"),
        ("not a bearer token", "not_bearer"), ("internal key sent twice", "duplicate_credential"),
    ])
    func reasons(_ name: String, _ reason: String) throws {
        let item = try #require(HostileCase.all.first { $0.name == name })
        guard case .deny(_, let given) = decide(item.headers) else {
            Issue.record("\(name) was allowed")
            return
        }
        #expect(given == reason, "\(name)")
        guard case .deny(_, let none) = decide([]) else { return }
        #expect(none == "missing")
    }

    @Test("spoofed x-apk-* headers never authenticate")
    func spoofedHeaders() {
        #expect(denial(decide([("x-apk-consumer-key", "abc"), ("x-apk-auth", "ok")]))?.code == 900903)
    }
}

/// The JWT auth type and API keys (contract §7.3): raw tokens, each from its own pool of issuers, and what each
/// may not do (an API key is no access token and the reverse; the JWT type is never scope-checked but may require
/// an audience; a key naming the other environment is refused; a query key the API does not forward is removed).
@Suite("Auth evaluator: JWT type and API keys")
struct AuthEvaluatorCredentialTests {
    static let apiKeyIssuer = "https://apim.example.com/publisher"
    let keys: TrustedKeys = {
        var keys = F.keys
        keys.apiKeyIssuers = [Self.apiKeyIssuer: [TrustedKeys.Entry(kid: F.keyID, key: F.verificationKey)]]
        return keys
    }()
    let operation = OperationAuthPlan(target: "/orders", secured: true, scopes: ["orders:admin"])

    func plan(_ credentials: [Credential]) -> APIAuthPlan {
        APIAuthPlan(apiID: "api-1", organization: "default", disabled: false, credentials: credentials, subscriptionValidation: false)
    }

    func decide(
        _ credentials: [Credential], headers: [(String, String)] = [], path: String = "/orders", keyType: KeyType = .production
    ) -> Decision {
        AuthEvaluator.decide(
            api: plan(credentials), operation: operation, keyType: keyType,
            request: AuthRequest(method: "GET", headers: headers.map { (name: $0.0, value: $0.1) }, path: path),
            keys: keys, now: F.now)
    }

    func apiKey(_ extra: [(String, JSONValue)] = []) -> String {
        F.token(F.claims(extra, issuer: Self.apiKeyIssuer))
    }

    @Test func theJWTTypeReadsRawTokensChecksTheAudienceAndNoScopes() {
        let jwt = Credential.jwt(header: "x-jwt", sendToUpstream: false, audiences: ["aud1", "other"])
        // Raw (no scheme), scopes not checked although the operation asks for one the token lacks.
        guard case .allow(let allowance) = decide([jwt], headers: [("X-JWT", F.token())]) else {
            Issue.record("a raw token of a trusted issuer with a listed audience is allowed")
            return
        }
        #expect(allowance.identity?.kind == .jwt && allowance.removeHeaders == ["x-jwt"])
        // `aud` as an array naming one of them.
        #expect(decide([jwt], headers: [("x-jwt", F.token(F.claims([("aud", ["x", "other"])])))]).isAllowed)
        // Another audience, a Bearer-prefixed value, an internal key, an API key: refused with 401 900903.
        for value in [
            F.token(F.claims([("aud", "elsewhere")])), "Bearer " + F.token(), F.internalKey(api: "api-1"), apiKey(),
        ] {
            #expect(decide([jwt], headers: [("x-jwt", value)]).denial == .invalidCredentials, "\(value.prefix(20))")
        }
        // No audience configured: any audience.
        #expect(decide([.jwt(header: "x-jwt", sendToUpstream: true, audiences: [])], headers: [("x-jwt", F.token(F.claims([("aud", "z")])))]).isAllowed)
    }

    @Test func apiKeysComeFromTheirOwnIssuersInAHeaderOrTheQuery() {
        let header = Credential.apiKey(location: .header("apikey"), sendToUpstream: false)
        let query = Credential.apiKey(location: .query("apiKey"), sendToUpstream: false)
        guard case .allow(let viaHeader) = decide([header, query], headers: [("ApiKey", apiKey())]) else {
            Issue.record("an API key in its header is allowed")
            return
        }
        #expect(viaHeader.identity?.kind == .apiKey && viaHeader.removeHeaders == ["apikey"])
        guard case .allow(let viaQuery) = decide([header, query], path: "/orders?x=1&apiKey=\(apiKey())&y=2") else {
            Issue.record("an API key in its query parameter is allowed")
            return
        }
        #expect(viaQuery.removeQueryParameters == ["apiKey"] && viaQuery.removeHeaders.isEmpty, "not forwarded")
        // Query names are case-sensitive; a key sent twice is ambiguous.
        #expect(decide([query], path: "/orders?apikey=\(apiKey())").denial == .invalidCredentials)
        #expect(decide([query], path: "/orders?apiKey=\(apiKey())&apiKey=\(apiKey())").denial == .invalidCredentials)
        // Forwarded when the API says so.
        guard case .allow(let kept) = decide([.apiKey(location: .query("apiKey"), sendToUpstream: true)], path: "/orders?apiKey=\(apiKey())")
        else {
            Issue.record("allowed")
            return
        }
        #expect(kept.removeQueryParameters.isEmpty)
        // An access token or an internal key is not an API key, nor an API key an access token.
        #expect(decide([header], headers: [("apikey", F.token())]).denial == .invalidCredentials)
        #expect(decide([header], headers: [("apikey", F.internalKey(api: "api-1"))]).denial == .invalidCredentials)
        #expect(decide([.oauth2(header: "authorization", sendToUpstream: true)], headers: [("authorization", "Bearer " + apiKey())]).denial
            == .invalidCredentials)
        // A key of the other environment is refused; one without `keytype` is good for both.
        #expect(decide([header], headers: [("apikey", apiKey([("keytype", "SANDBOX")]))]).denial == .invalidCredentials)
        #expect(decide([header], headers: [("apikey", apiKey([("keytype", "SANDBOX")]))], keyType: .sandbox).isAllowed)
        // No API-key issuer trusted: no key is valid.
        var none = keys
        none.apiKeyIssuers = [:]
        let refused = AuthEvaluator.decide(
            api: plan([header]), operation: operation, keyType: .production,
            request: AuthRequest(method: "GET", headers: [("apikey", apiKey())]), keys: none, now: F.now)
        #expect(refused.denial == .invalidCredentials)
    }

    @Test func queryParametersArePercentDecodedAndExact() {
        let request = AuthRequest(method: "GET", headers: [], path: "/a?apiKey=a%2Eb&apiKeyX=1&apiKey2=3#frag")
        #expect(request.queryValues("apiKey") == ["a.b"])
        #expect(AuthRequest(method: "GET", headers: [], path: "/a").queryValues("apiKey").isEmpty)
        #expect(AuthRequest(method: "GET", headers: [], path: "/a?apiKey").queryValues("apiKey") == [""])
    }
}

extension Decision {
    var isAllowed: Bool { if case .allow = self { true } else { false } }
    var denial: Denial? { if case .deny(let denial, _) = self { denial } else { nil } }
}
