import APKAuth
import APKAuthPlan
import APKEnforcer
import APKModel
import APKTestTokens
import CryptoExtras
import EnvoyProtos
import Foundation
import SwiftProtobuf
import Testing

/// Backend JWTs (contract §7.7): the claims, the signature a backend verifies with the published JWKS, the encodings,
/// and the header the enforcer adds to an allowed request.
@Suite struct BackendJWTTests {
    static let spec = BackendJWTSpec(
        encoding: "Base64Url", signingAlgorithm: "SHA256withRSA", header: "X-JWT-Assertion", tokenTTL: 3600,
        customClaims: [.init(claim: "department", value: "sales", type: "string")])
    static func plan(_ spec: BackendJWTSpec = spec) throws -> BackendJWTPlan {
        try BackendJWTPlan(spec: spec, apiName: "orders", apiContext: "/orders/1.0.0", apiVersion: "1.0.0")
    }

    let tokens = try! TokenFactory(issuer: "https://idp.am.wso2.com/token", internalIssuer: "https://idp.am.wso2.com/internal-key", now: 1_800_000_000)

    func identity() throws -> Identity {
        let token = tokens.token(tokens.claims([("organization", "default"), ("clientId", "app-1"), ("count", .int(3))]))
        let plan = RoutePlan(
            api: try AuthPlanBuilder.api(id: "orders-api", organization: "default", authentication: nil, policy: nil),
            operation: OperationAuthPlan(target: "/orders", secured: true, scopes: []), keyType: .production)
        let entry = TrustedKeys.Entry(kid: tokens.keyID, key: tokens.verificationKey)
        let keys = TrustedKeys(accessTokenIssuers: [tokens.issuer: [entry]], internalKeyIssuer: tokens.internalIssuer, internalKeys: [entry])
        guard case .allow(let allowance) = AuthEvaluator.decide(
            api: plan.api, operation: plan.operation, keyType: .production,
            request: AuthRequest(method: "GET", headers: [("authorization", "Bearer " + token)]), keys: keys, now: tokens.now),
            let identity = allowance.identity
        else { throw CancellationError() }
        return identity
    }

    @Test func claimsFollowTheContract() throws {
        let claims = try Self.plan().claims(identity: try identity(), keyType: .sandbox, now: 1_800_000_100)
        #expect(claims["iss"] == "wso2.org/products/am")
        #expect(claims["iat"]?.intValue == 1_800_000_100 && claims["exp"]?.intValue == 1_800_003_700)
        #expect(claims["http://wso2.org/claims/apiname"] == "orders")
        #expect(claims["http://wso2.org/claims/apicontext"] == "/orders/1.0.0")
        #expect(claims["http://wso2.org/claims/version"] == "1.0.0")
        #expect(claims["http://wso2.org/claims/keytype"] == "SANDBOX")
        #expect(claims["sub"] == "alice")
        // Every other string claim of the token is copied; the reserved ones and non-strings are not.
        #expect(claims["organization"] == "default" && claims["clientId"] == "app-1" && claims["scope"] != nil)
        #expect(claims["count"] == nil && claims["aud"] == nil && claims["jti"] == nil)
        #expect(claims["department"] == "sales")
    }

    @Test func signedTokensVerifyWithThePublishedKeyAndAreReused() throws {
        let signer = try BackendJWTSigner(privateKey: try _RSA.Signing.PrivateKey(keySize: .bits2048))
        let identity = try identity()
        let token = try signer.token(plan: try Self.plan(), apiID: "orders-api", identity: identity, keyType: .production, now: 1_800_000_000)
        let keys = try #require(VerificationKey.keys(fromJWKS: Array(signer.jwks.utf8)))
        #expect(keys.map(\.kid) == [signer.keyID])
        let jws = try CompactJWS.parse(token)
        #expect(jws.keyID == signer.keyID && jws.algorithm == "RS256")
        #expect(keys[0].key.verify(signature: jws.signature, signingInput: jws.signingInput))
        // The same credential on the same API within the token's life: the same token (no new signature).
        #expect(try signer.token(plan: try Self.plan(), apiID: "orders-api", identity: identity, keyType: .production, now: 1_800_001_000) == token)
        #expect(try signer.token(plan: try Self.plan(), apiID: "orders-api", identity: identity, keyType: .sandbox, now: 1_800_001_000) != token)
        #expect(try signer.token(plan: try Self.plan(), apiID: "orders-api", identity: identity, keyType: .production, now: 1_800_003_600) != token,
                "renewed 30 s before it expires")
    }

    @Test func encodingsAndUnsignedTokens() throws {
        let signer = try BackendJWTSigner(privateKey: try _RSA.Signing.PrivateKey(keySize: .bits2048))
        var base64 = Self.spec
        base64.encoding = "Base64"
        let token = try signer.token(plan: try Self.plan(base64), apiID: "a", identity: try identity(), keyType: .production, now: 0)
        #expect(token.split(separator: ".").allSatisfy { Data(base64Encoded: String($0)) != nil }, "standard base64 segments")
        var none = Self.spec
        none.signingAlgorithm = "NONE"
        let unsigned = try signer.token(plan: try Self.plan(none), apiID: "a", identity: try identity(), keyType: .production, now: 0)
        #expect(unsigned.hasSuffix(".") && unsigned.split(separator: ".").count == 2)
        for bad in [
            BackendJWTSpec(encoding: "hex", signingAlgorithm: "SHA256withRSA", header: "X-JWT-Assertion", tokenTTL: 60),
            BackendJWTSpec(encoding: "Base64", signingAlgorithm: "SHA256withRSA", header: "bad header", tokenTTL: 60),
            BackendJWTSpec(encoding: "Base64", signingAlgorithm: "SHA256withRSA", header: "x-apk-id", tokenTTL: 60),
            BackendJWTSpec(encoding: "Base64", signingAlgorithm: "SHA256withRSA", header: "X-JWT-Assertion", tokenTTL: 0),
        ] {
            #expect(throws: AuthPlanError.self) { try Self.plan(bad) }
        }
    }

    @Test func anAllowedRequestCarriesTheBackendJWT() throws {
        let signer = try BackendJWTSigner(privateKey: try _RSA.Signing.PrivateKey(keySize: .bits2048))
        var api = try AuthPlanBuilder.api(id: "orders-api", organization: "default", authentication: nil, policy: nil)
        api.backendJWT = try Self.plan()
        let plan = RoutePlan(api: api, operation: OperationAuthPlan(target: "/orders", secured: true, scopes: []), keyType: .production)
        var request = Envoy_Service_Auth_V3_CheckRequest()
        request.attributes.request.http.method = "GET"
        request.attributes.request.http.headers = ["authorization": "Bearer " + tokens.token()]
        request.attributes.contextExtensions[RoutePlan.contextKey] = try plan.encoded()
        let entry = TrustedKeys.Entry(kid: tokens.keyID, key: tokens.verificationKey)
        let keys = TrustedKeys(accessTokenIssuers: [tokens.issuer: [entry]], internalKeyIssuer: tokens.internalIssuer, internalKeys: [entry])
        let (response, outcome) = CheckHandler(backendJWT: signer).check(request, keys: keys, now: tokens.now)
        #expect(outcome == .allowed)
        let header = try #require(response.okResponse.headers.first)
        #expect(header.header.key == "x-jwt-assertion" && header.appendAction == .overwriteIfExistsOrAdd)
        #expect(try CompactJWS.parse(header.header.value).claims["http://wso2.org/claims/apiname"] == "orders")
        // Without a signer the request is not forwarded without its backend JWT.
        let (refused, refusal) = CheckHandler().check(request, keys: keys, now: tokens.now)
        #expect(refused.deniedResponse.status.code == .internalServerError)
        guard case .backendJWTFailed = refusal else {
            Issue.record("a missing signer is reported as \(refusal)")
            return
        }
    }

    /// `native` mode: the route names only the backend JWT; the identity is what `jwt_authn` verified (metadata
    /// context), so the same claims come out as in `enforcer` mode, and a request without a verified payload is
    /// never forwarded.
    @Test func nativeRoutesSignFromTheVerifiedPayload() throws {
        let signer = try BackendJWTSigner(privateKey: try _RSA.Signing.PrivateKey(keySize: .bits2048))
        let route = BackendJWTRoute(apiID: "orders-api", keyType: .sandbox, plan: try Self.plan())
        var request = Envoy_Service_Auth_V3_CheckRequest()
        request.attributes.request.http.method = "GET"
        request.attributes.request.http.headers = ["authorization": "Bearer forged-and-ignored"]
        request.attributes.contextExtensions[BackendJWTRoute.contextKey] = try route.encoded()
        let keys = TrustedKeys(accessTokenIssuers: [:], internalKeyIssuer: tokens.internalIssuer, internalKeys: [])
        // No verified payload: refused (500), whatever the headers say.
        let (refused, refusal) = CheckHandler(backendJWT: signer).check(request, keys: keys, now: tokens.now)
        #expect(refused.deniedResponse.status.code == .internalServerError)
        guard case .backendJWTFailed = refusal else {
            Issue.record("a request without a verified payload is reported as \(refusal)")
            return
        }
        // jwt_authn's payload as Envoy sends it: numbers as doubles, `scope` normalised to a list.
        let payload = Google_Protobuf_Struct(fields: [
            "iss": Google_Protobuf_Value(stringValue: tokens.issuer), "sub": Google_Protobuf_Value(stringValue: "alice"),
            "exp": Google_Protobuf_Value(numberValue: 1_800_003_600), "organization": Google_Protobuf_Value(stringValue: "default"),
            "scope": Google_Protobuf_Value(listValue: Google_Protobuf_ListValue(values: [
                Google_Protobuf_Value(stringValue: "read"), Google_Protobuf_Value(stringValue: "write"),
            ])),
        ])
        request.attributes.metadataContext.filterMetadata["envoy.filters.http.jwt_authn"] =
            Google_Protobuf_Struct(fields: ["apk_token": Google_Protobuf_Value(structValue: payload)])
        let (response, outcome) = CheckHandler(backendJWT: signer).check(request, keys: keys, now: tokens.now)
        #expect(outcome == .allowed)
        let header = try #require(response.okResponse.headers.first)
        #expect(header.header.key == "x-jwt-assertion")
        let claims = try CompactJWS.parse(header.header.value).claims
        #expect(claims["sub"] == "alice" && claims["organization"] == "default" && claims["scope"] == "read write")
        #expect(claims["http://wso2.org/claims/keytype"] == "SANDBOX" && claims["exp"]?.intValue == Int(tokens.now) + 3600)
        #expect(response.okResponse.headersToRemove.isEmpty, "native filters already shaped the request")
        // An internal key's payload works the same way.
        request.attributes.metadataContext.filterMetadata["envoy.filters.http.jwt_authn"] =
            Google_Protobuf_Struct(fields: ["apk_internal_key": Google_Protobuf_Value(structValue: payload)])
        #expect(CheckHandler(backendJWT: signer).check(request, keys: keys, now: tokens.now).outcome == .allowed)
    }
}

/// `POST /backend-jwt`'s decision (the router's Lua stage on a cache miss): the plan is evaluated again with the
/// request's credential headers, and only an allowed request gets a token, with the moment it is renewed.
@Suite struct BackendJWTEndpointTests {
    let tokens = try! TokenFactory(issuer: "https://idp.am.wso2.com/token", internalIssuer: "https://idp.am.wso2.com/internal-key", now: 1_800_000_000)

    @Test func onlyAnAllowedCredentialGetsATokenAndItsRenewalTime() throws {
        let signer = try BackendJWTSigner(privateKey: try _RSA.Signing.PrivateKey(keySize: .bits2048))
        var api = try AuthPlanBuilder.api(id: "orders-api", organization: "default", authentication: nil, policy: nil)
        api.backendJWT = try BackendJWTTests.plan()
        let text = try RoutePlan(api: api, operation: OperationAuthPlan(target: "/orders", secured: true, scopes: []), keyType: .production).encoded()
        let entry = TrustedKeys.Entry(kid: tokens.keyID, key: tokens.verificationKey)
        let keys = TrustedKeys(accessTokenIssuers: [tokens.issuer: [entry]], internalKeyIssuer: tokens.internalIssuer, internalKeys: [entry])
        let handler = CheckHandler(backendJWT: signer)
        let (issued, outcome) = handler.backendJWT(
            planText: text, headers: [("authorization", "Bearer " + tokens.token())], path: "/orders", keys: keys, now: tokens.now)
        #expect(outcome == .allowed)
        let result = try #require(issued)
        #expect(result.refreshAt == Int(tokens.now) + 3600 - 30)
        #expect(try CompactJWS.parse(result.token).claims["http://wso2.org/claims/apicontext"] == "/orders/1.0.0")
        // No credential, a forged one, or no readable plan: no token.
        #expect(handler.backendJWT(planText: text, headers: [], path: "/orders", keys: keys, now: tokens.now).result == nil)
        #expect(handler.backendJWT(
            planText: text, headers: [("authorization", "Bearer x.y.z")], path: "/orders", keys: keys, now: tokens.now).result == nil)
        let (none, noPlan) = handler.backendJWT(
            planText: "{}", headers: [("authorization", "Bearer " + tokens.token())], path: "/", keys: keys, now: tokens.now)
        #expect(none == nil && noPlan == .noPlan)
    }
}
