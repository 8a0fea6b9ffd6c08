import APKAuth
import APKAuthPlan
import APKModel
import Crypto
import CryptoExtras
import Foundation
import Testing

/// Keys, issuers and token helpers shared by the evaluator tests (RSA keys are slow to make: once per process).
enum TokenFixtures {
    static let issuer = "https://idp.am.wso2.com/token"
    static let internalIssuer = "https://idp.am.wso2.com/internal-key"
    static let otherIssuer = "https://other.example/issuer"
    static let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let otherKey = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let signer = RS256Signer(keyID: "k1", privateKey: key)
    static let now = 1_800_000_000.0

    static var keys: TrustedKeys {
        let entry = TrustedKeys.Entry(kid: "k1", key: .rs256(key.publicKey))
        return TrustedKeys(
            accessTokenIssuers: [issuer: [entry]], internalKeyIssuer: internalIssuer, internalKeys: [entry])
    }

    static func claims(_ extra: [(String, JSONValue)] = [], issuer: String = issuer) -> JSONObject {
        let issuedAt: JSONValue = .int(Int(now) - 10)
        let expiry: JSONValue = .int(Int(now) + 3600)
        var claims = JSONObject()
        claims["iss"] = .string(issuer)
        claims["sub"] = .string("alice")
        claims["aud"] = .string("aud1")
        claims["iat"] = issuedAt
        claims["exp"] = expiry
        claims["scope"] = .string("orders:read orders:write")
        for (name, value) in extra { claims[name] = value }
        return claims
    }

    static func internalKey(api: String = "api-1", keyType: String = "PRODUCTION") -> String {
        var claims = claims([("aud", "apk-internal-key"), ("apiId", .string(api)), ("keytype", .string(keyType))],
                            issuer: internalIssuer)
        claims["scope"] = nil
        return try! signer.sign(claims)
    }

    static func token(_ claims: JSONObject = claims()) -> String { try! signer.sign(claims) }

    /// A token with any header, payload and raw signature bytes.
    static func raw(header: String, payload: String, signature: [UInt8] = []) -> String {
        b64(Array(header.utf8)) + "." + b64(Array(payload.utf8)) + "." + b64(signature)
    }

    static func b64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Replaces the payload of a signed token, keeping its header and signature.
    static func tampered(_ token: String, payload: String) -> String {
        let parts = token.split(separator: ".")
        return parts[0] + "." + b64(Array(payload.utf8)) + "." + parts[2]
    }
}

@Suite("Auth evaluator")
struct AuthEvaluatorTests {
    typealias F = TokenFixtures

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
        guard case .allow(let viaKey) = decide([("Internal-Key", F.internalKey())]) else {
            Issue.record("internal key denied")
            return
        }
        #expect(viaKey.identity?.kind == .internalKey)
        // Scheme is case-insensitive (RFC 6750).
        #expect(denial(decide([("authorization", "bearer " + F.token())])) == nil)
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
        #expect(denial(decide([("Internal-Key", F.internalKey())], operation: all)) == nil)
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
        ("access token with the internal-key audience", "not_an_access_token"),
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

/// One hostile request of the issue's list.
struct HostileCase: Sendable, CustomTestStringConvertible {
    var name: String
    var headers: [(String, String)]
    var testDescription: String { name }

    typealias F = TokenFixtures

    static var all: [HostileCase] {
        let publicDER = F.key.publicKey.derRepresentation
        let hsInput = F.b64(Array(#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#.utf8)) + "."
            + F.b64(Array(DocumentWriter.json(.object(F.claims())).utf8))
        let hmac = HMAC<SHA256>.authenticationCode(for: Array(hsInput.utf8), using: SymmetricKey(data: publicDER))
        let payload = DocumentWriter.json(.object(F.claims()))
        var manyClaims = F.claims()
        for index in 0..<10_000 { manyClaims["c\(index)"] = .int(index) }
        var noSub = F.claims()
        noSub["sub"] = nil
        var noExp = F.claims()
        noExp["exp"] = nil
        let bearer = { (token: String) in [("Authorization", "Bearer " + token)] }
        return [
            HostileCase(name: "alg none", headers: bearer(F.raw(header: #"{"alg":"none"}"#, payload: payload))),
            HostileCase(name: "HS256 signed with the RSA public key", headers: bearer(hsInput + "." + F.b64(Array(hmac)))),
            HostileCase(name: "expired", headers: bearer(F.token(F.claims([("exp", .int(Int(F.now) - 120))])))),
            HostileCase(name: "nbf in the future", headers: bearer(F.token(F.claims([("nbf", .int(Int(F.now) + 600))])))),
            HostileCase(name: "no exp", headers: bearer(F.token(noExp))),
            HostileCase(name: "no sub", headers: bearer(F.token(noSub))),
            HostileCase(name: "wrong issuer", headers: bearer(F.token(F.claims(issuer: F.otherIssuer)))),
            HostileCase(
                name: "signed by another key",
                headers: bearer(try! RS256Signer(keyID: "k1", privateKey: F.otherKey).sign(F.claims()))),
            HostileCase(
                name: "tampered payload",
                headers: bearer(F.tampered(F.token(), payload: DocumentWriter.json(.object(F.claims([("sub", "root")])))))),
            HostileCase(
                name: "unknown kid", headers: bearer(try! RS256Signer(keyID: "k9", privateKey: F.key).sign(F.claims()))),
            HostileCase(
                name: "64 KiB token",
                headers: bearer(F.token(F.claims([("pad", .string(String(repeating: "a", count: 64 * 1024)))])))),
            HostileCase(name: "10,000 claims", headers: bearer(F.token(manyClaims))),
            HostileCase(name: "non-base64 garbage", headers: bearer("%%%.@@@.!!!")),
            HostileCase(name: "not a bearer token", headers: [("Authorization", "Basic YWxpY2U6c2VjcmV0")]),
            HostileCase(name: "empty bearer", headers: [("Authorization", "Bearer ")]),
            HostileCase(name: "internal key of another API", headers: [("Internal-Key", F.internalKey(api: "api-2"))]),
            HostileCase(name: "sandbox internal key on production", headers: [("Internal-Key", F.internalKey(keyType: "SANDBOX"))]),
            HostileCase(name: "internal key sent as a bearer token", headers: bearer(F.internalKey())),
            HostileCase(
                name: "access token with the internal-key audience",
                headers: bearer(F.token(F.claims([("aud", "apk-internal-key")])))),
            HostileCase(name: "access token sent as an internal key", headers: [("Internal-Key", F.token())]),
            HostileCase(name: "internal key sent twice", headers: [("Internal-Key", F.internalKey()), ("Internal-Key", F.internalKey())]),
        ]
    }
}
