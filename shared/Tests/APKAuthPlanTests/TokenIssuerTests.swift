@testable import APKAuth
@testable import APKAuthPlan
import APKModel
import CryptoExtras
import Foundation
import Testing

/// Organizations' `TokenIssuer`s (contract §6, §7.3): keys from a certificate, the spec checks, which APIs an issuer
/// serves, and the evaluator reading each issuer's own scopes and consumer-key claims — only for the APIs whose
/// plan lists it.
struct TokenIssuerTests {
    typealias F = CertificateFixtures
    static let partner = "https://partner.example/token"
    static let now = 1_900_000_000.0

    // MARK: keys from PEM

    @Test func certificatesAndPublicKeysGiveTheirKey() throws {
        let fromCertificate = try #require(VerificationKey.keys(fromPEM: F.rsaCertificate))
        let fromPublicKey = try #require(VerificationKey.keys(fromPEM: F.rsaPublicKey))
        let privateKey = try _RSA.Signing.PrivateKey(pemRepresentation: F.rsaPrivateKey)
        #expect(fromCertificate.count == 1 && fromPublicKey.count == 1)
        let expected = privateKey.publicKey.jwk(kid: "x")?.objectValue?["n"]
        #expect(fromCertificate[0].publicJWK?.objectValue?["n"] == expected)
        #expect(fromPublicKey[0].publicJWK?.objectValue?["n"] == expected)
        #expect(fromCertificate[0].publicJWK?.objectValue?["kid"] == nil, "no kid: tried for any token of the issuer")
        let ec = try #require(VerificationKey.keys(fromPEM: F.ecCertificate))
        #expect(ec[0].algorithm == "ES256")
        #expect(ec[0].publicJWK?.objectValue?["crv"] == "P-256")
        // Both blocks in one text; the JWKS document holds both.
        let both = try #require(VerificationKey.keys(fromPEM: F.rsaCertificate + "\n" + F.ecCertificate))
        let document = try #require(VerificationKey.keys(fromJWKS: Array(VerificationKey.jwksDocument(both).utf8)))
        #expect(document.map(\.key.algorithm) == ["RS256", "ES256"])
    }

    @Test(arguments: [
        ("weak RSA key", F.weakCertificate), ("private key only", F.rsaPrivateKey), ("empty", ""),
        ("not base64", "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----"),
        ("truncated", String(F.rsaCertificate.prefix(400)) + "\n-----END CERTIFICATE-----"),
        ("unterminated", "-----BEGIN CERTIFICATE-----\nMIIB"),
    ])
    func unusablePEMGivesNoKey(name: String, text: String) {
        #expect(VerificationKey.keys(fromPEM: text) == nil, "\(name)")
    }

    @Test func corruptCertificateBytesNeverCrash() throws {
        let der = try #require(PEMBlock.blocks(in: F.rsaCertificate).first?.der)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            var bytes = der
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            let length = Int.random(in: 0...bytes.count, using: &generator)
            _ = DER.subjectPublicKeyInfo(ofCertificate: Array(bytes.prefix(length)))
        }
    }

    // MARK: the spec

    static func spec(
        organization: String = "default", issuer: String = partner, jwks: String? = nil, certificate: String? = nil,
        environments: [String]? = nil, scopesClaim: String? = nil, consumerKeyClaim: String? = nil,
        claimMappings: [TokenIssuerSpec.ClaimMapping]? = nil
    ) -> TokenIssuerSpec {
        TokenIssuerSpec(
            name: "partner", organization: organization, issuer: issuer, consumerKeyClaim: consumerKeyClaim,
            scopesClaim: scopesClaim,
            signatureValidation: TokenIssuerSpec.SignatureValidation(
                jwks: jwks.map { TokenIssuerSpec.JWKS(url: $0) },
                certificate: certificate.map { TokenIssuerSpec.Certificate(certificateInline: $0) }),
            claimMappings: claimMappings, environments: environments)
    }

    @Test func theSpecIsChecked() throws {
        let byURL = try ResolvedTokenIssuer(name: "partner", spec: Self.spec(jwks: "https://keys.partner.example/jwks"))
        #expect(byURL.plan.id == "default/partner" && byURL.keys == .jwks(url: "https://keys.partner.example/jwks", trustedCA: nil))
        let byCertificate = try ResolvedTokenIssuer(
            name: "partner", spec: Self.spec(certificate: F.rsaCertificate, scopesClaim: "scp", consumerKeyClaim: "client_id"))
        #expect(byCertificate.plan.scopes == "scp" && byCertificate.plan.consumerKey == "client_id")
        let defaults = try ResolvedTokenIssuer(name: "partner", spec: Self.spec(jwks: "http://127.0.0.1:1/jwks"))
        #expect(defaults.plan.scopes == "scope" && defaults.plan.consumerKey == "azp")

        let refused: [(String, TokenIssuerSpec)] = [
            ("both key sources", Self.spec(jwks: "https://k.example/jwks", certificate: F.rsaCertificate)),
            ("no key source", Self.spec()),
            ("not a URL", Self.spec(jwks: "ftp://k.example/jwks")),
            ("URL with user info", Self.spec(jwks: "https://user:pw@k.example/jwks")),
            ("weak certificate", Self.spec(certificate: F.weakCertificate)),
            ("no organization", Self.spec(organization: " ", jwks: "https://k.example/jwks")),
            ("no issuer", Self.spec(issuer: "", jwks: "https://k.example/jwks")),
            ("nested scopes claim", Self.spec(jwks: "https://k.example/jwks", scopesClaim: "realm.roles")),
            ("empty claim mapping", Self.spec(
                jwks: "https://k.example/jwks", claimMappings: [.init(remoteClaim: "groups", localClaim: "")])),
        ]
        for (name, spec) in refused {
            #expect(throws: AuthPlanError.self, "\(name)") { try ResolvedTokenIssuer(name: "partner", spec: spec) }
        }
        var secretRef = Self.spec()
        secretRef.signatureValidation.certificate = TokenIssuerSpec.Certificate(secretRef: KeyRef(name: "s", key: "k"))
        #expect(throws: AuthPlanError.self) { try ResolvedTokenIssuer(name: "partner", spec: secretRef) }
    }

    @Test func anIssuerServesItsOrganizationAndEnvironments() throws {
        let everywhere = try ResolvedTokenIssuer(name: "p", spec: Self.spec(jwks: "https://k.example/jwks"))
        #expect(everywhere.serves(organization: "default", environment: nil))
        #expect(everywhere.serves(organization: "default", environment: "eu"))
        #expect(!everywhere.serves(organization: "other", environment: nil))
        let star = try ResolvedTokenIssuer(name: "p", spec: Self.spec(jwks: "https://k.example/jwks", environments: ["*"]))
        #expect(star.serves(organization: "default", environment: "eu"))
        let listed = try ResolvedTokenIssuer(name: "p", spec: Self.spec(jwks: "https://k.example/jwks", environments: ["eu"]))
        #expect(listed.serves(organization: "default", environment: "eu"))
        #expect(!listed.serves(organization: "default", environment: nil), "an API without environment is in Default")
        let defaultEnvironment = try ResolvedTokenIssuer(
            name: "p", spec: Self.spec(jwks: "https://k.example/jwks", environments: ["Default"]))
        #expect(defaultEnvironment.serves(organization: "default", environment: ""))
    }

    // MARK: the evaluator

    static func token(_ claims: [(String, JSONValue)], issuer: String = partner) throws -> String {
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: F.rsaPrivateKey)
        var all: [(String, JSONValue)] = [
            ("iss", .string(issuer)), ("sub", "alice"), ("exp", .int(Int(now) + 600)), ("iat", .int(Int(now) - 10)),
        ]
        all += claims
        return try RS256Signer(keyID: "whatever-the-issuer-uses", privateKey: key).sign(JSONObject(all))
    }

    static var keys: TrustedKeys {
        var keys = TrustedKeys(accessTokenIssuers: [:], internalKeyIssuer: "https://idp.example/internal", internalKeys: [])
        keys.tokenIssuers["default/partner"] = (VerificationKey.keys(fromPEM: F.rsaCertificate) ?? [])
            .map { TrustedKeys.Entry(kid: nil, key: $0) }
        return keys
    }

    static let partnerPlan = PlanIssuer(
        id: "default/partner", issuer: partner, scopesClaim: "scp", consumerKeyClaim: "client_id",
        claimMappings: [.init(remote: "groups", local: "x-wso2-groups")])

    static func plan(issuers: [PlanIssuer]?, subscriptions: Bool = false) -> APIAuthPlan {
        var plan = APIAuthPlan(
            apiID: "api-1", organization: "default", disabled: false,
            credentials: [.oauth2(header: "authorization", sendToUpstream: true)], subscriptionValidation: subscriptions)
        plan.issuers = issuers
        return plan
    }

    static func decide(
        _ token: String, issuers: [PlanIssuer]?, scopes: [String] = [], cache: VerificationCache? = nil,
        subscriptions: Bool = false
    ) -> Decision {
        AuthEvaluator.decide(
            api: plan(issuers: issuers, subscriptions: subscriptions),
            operation: OperationAuthPlan(target: "/orders", secured: true, scopes: scopes), keyType: .production,
            request: AuthRequest(method: "GET", headers: [("authorization", "Bearer " + token)]), keys: keys, now: now,
            cache: cache)
    }

    @Test func anOrganizationIssuerIsTrustedOnlyWhereThePlanListsIt() throws {
        let token = try Self.token([("scp", "orders:read orders:write"), ("client_id", "client-7"), ("groups", ["ops"])])
        guard case .allow(let allowance) = Self.decide(token, issuers: [Self.partnerPlan], scopes: ["orders:read"]) else {
            Issue.record("the partner's token with the scope is allowed")
            return
        }
        #expect(allowance.identity?.scopes == ["orders:read", "orders:write"], "scopes from its scopesClaim")
        #expect(allowance.identity?.consumerKey == "client-7", "client from its consumerKeyClaim")
        #expect(allowance.identity?.claims["x-wso2-groups"] == ["ops"] && allowance.identity?.claims["groups"] == nil)
        // Another organization's API (no such issuer in its plan): unknown issuer.
        #expect(Self.decide(token, issuers: nil) == .deny(.invalidCredentials, reason: "unknown_issuer"))
        #expect(Self.decide(token, issuers: [], scopes: ["orders:read"]) == .deny(.invalidCredentials, reason: "unknown_issuer"))
        // Missing scope: 403.
        #expect(Self.decide(token, issuers: [Self.partnerPlan], scopes: ["orders:admin"])
            == .deny(.missingScope(target: "/orders"), reason: "missing_scope"))
        // Scopes in `scope` are not this issuer's scopes.
        let wrongClaim = try Self.token([("scope", "orders:read")])
        #expect(Self.decide(wrongClaim, issuers: [Self.partnerPlan], scopes: ["orders:read"])
            == .deny(.missingScope(target: "/orders"), reason: "missing_scope"))
        // The subscription stage reads the client from the issuer's claim.
        guard case .allow(let subscribed) = Self.decide(token, issuers: [Self.partnerPlan], subscriptions: true) else {
            Issue.record("allowed")
            return
        }
        #expect(subscribed.setHeaders.contains(Denial.Header(name: SubscriptionHeaders.consumerKey, value: "client-7")))
    }

    @Test func aCachedVerificationVouchesOnlyForTheIssuersItWasJudgedAgainst() throws {
        let cache = VerificationCache()
        let token = try Self.token([("scp", "a")])
        guard case .allow = Self.decide(token, issuers: [Self.partnerPlan], cache: cache) else {
            Issue.record("allowed for the partner's organization")
            return
        }
        #expect(cache.count == 1)
        #expect(Self.decide(token, issuers: nil, cache: cache) == .deny(.invalidCredentials, reason: "unknown_issuer"))
    }

    @Test func anotherIssuersTokenWithTheSameIssValueButAnotherKeyFails() throws {
        let other = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let forged = try RS256Signer(keyID: "k", privateKey: other).sign(JSONObject([
            ("iss", .string(Self.partner)), ("sub", "mallory"), ("exp", .int(Int(Self.now) + 600)), ("scp", "orders:read"),
        ]))
        #expect(Self.decide(forged, issuers: [Self.partnerPlan]) == .deny(.invalidCredentials, reason: "bad_signature"))
    }
}
