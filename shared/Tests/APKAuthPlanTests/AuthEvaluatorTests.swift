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
        ("not a bearer token", "not_bearer"), ("internal key sent twice", "duplicate_header"),
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
