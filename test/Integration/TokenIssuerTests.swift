import APKAuthPlan
import APKModel
import APKStore
import APKTestSupport
import APKTestTokens
import Foundation
import Testing

/// Organizations' `TokenIssuer` resources through a real Envoy, in both enforcement modes (contract §6, §7.3): an
/// issuer is trusted for the APIs of its organization (and environments) as soon as it is in the store — no redeploy,
/// no gateway setting —, with its own scopes and consumer-key claims; keys from a JWKS URL (served by a test server)
/// or an inline certificate; another organization's issuer is not trusted; a removed issuer stops working. In
/// `enforcer` mode the enforcer learns the issuers over APK discovery from the adapter.
@Suite(.enabled(if: GatewayStack.available, SkipMessage.gateway), .serialized)
struct TokenIssuerTests {
    static let partnerIssuer = "https://partner.example/token"
    static let certificateIssuer = "https://certs.example/token"
    static let elsewhereIssuer = "https://elsewhere.example/token"
    static let tlsIssuer = "https://tls.example/token"
    static let flow = DeployerFlowTests()

    @Test(arguments: [GatewayStack.Enforcement.native, .enforcer])
    func anOrganizationsIssuersAreTrustedForItsAPIs(mode: GatewayStack.Enforcement) async throws {
        let now = Date().timeIntervalSince1970
        let partner = try TokenFactory(issuer: Self.partnerIssuer, internalIssuer: "https://unused.example", now: now)
        let certificates = try TokenFactory(issuer: Self.certificateIssuer, internalIssuer: "https://unused.example", now: now)
        let elsewhere = try TokenFactory(issuer: Self.elsewhereIssuer, internalIssuer: "https://unused.example", now: now)
        let overTLS = try TokenFactory(issuer: Self.tlsIssuer, internalIssuer: "https://unused.example", now: now)
        // The partner's JWKS is served by apk-echo, but the gateway itself does not trust it (no AUTH_ISSUERS).
        let stack = try await GatewayStack(
            label: "ti-\(mode.rawValue)", testIssuer: (Self.partnerIssuer, partner.jwks), trustTestIssuer: false,
            enforcement: mode)
        defer { stack.stop() }
        let deployerToken = try await Self.flow.token(stack.deployer)
        let name = "gw-ti-\(UUID().uuidString.prefix(6).lowercased())"
        let id = try await TestAPI(name: name, operations: [
            .init(verb: "GET", target: "/orders"),
            .init(verb: "GET", target: "/admin", extra: #"scopes: ["orders:admin"]"#),
            .init(verb: "GET", target: "/open", extra: "secured: false"),
        ]).deploy(stack, token: deployerToken)
        try await stack.waitFor("/\(name)/1.0.0/open", host: "gw.wso2.com", status: 200)
        var organization = ""
        try await GatewayFlowTests().withStore { store in
            let api = try await store.resources.get(ResourceKey(kind: "API", namespace: stack.namespace, name: id))
            organization = try #require(api?.resource.spec?["organization"]?.stringValue)
        }
        func call(_ path: String, _ token: String) async throws -> HTTP.Response {
            try await stack.call(
                "/\(name)/1.0.0\(path)", host: "gw.wso2.com", headers: ["Authorization": "Bearer " + token], credentials: false)
        }
        func partnerToken(_ claims: [(String, JSONValue)]) -> String {
            var payload = partner.claims(claims)
            payload["scope"] = nil  // this issuer's scopes are in `scp`
            return partner.token(payload)
        }
        let partnerAdmin = partnerToken([("scp", "orders:read orders:admin"), ("client_id", "client-7")])
        let partnerReader = partnerToken([("scp", "orders:read")])
        let partnerWrongClaim = partner.token(partner.claims([("scope", "orders:admin")]))
        let certificateToken = certificates.token()
        let elsewhereToken = elsewhere.token()
        let tlsToken = overTLS.token()

        // A JWKS served over HTTPS by a server whose certificate only `jwks.tls.certificateInline` vouches for (the
        // stack's self-signed certificate, whose names include localhost).
        let certificatePath = stack.directory.appendingPathComponent("gateway.crt").path
        let jwksPath = stack.directory.appendingPathComponent("tls-issuer.jwks.json")
        try Data(overTLS.jwks.utf8).write(to: jwksPath)
        let tlsServer = try ServiceProcess(executable: "apk-echo", environment: [
            "JWKS_FILE": jwksPath.path, "TLS_CERTIFICATE": certificatePath,
            "TLS_KEY": stack.directory.appendingPathComponent("gateway.key").path,
        ])
        defer { tlsServer.stop() }
        let tlsJWKS = "https://localhost:\(tlsServer.port)/.well-known/jwks.json"
        #expect(try await Poll.until(every: .milliseconds(50)) {
            try await Command.run(["curl", "-sf", "-o", "/dev/null", "--cacert", certificatePath, tlsJWKS]).status == 0
        }, "the HTTPS JWKS server is up")
        let certificatePEM = try String(contentsOfFile: certificatePath, encoding: .utf8)

        // Not trusted before its TokenIssuer exists.
        #expect(try await call("/orders", partnerAdmin).status == 401)

        let issuers = [
            Self.issuer("partner", organization: organization, issuer: Self.partnerIssuer, keys: [
                ("jwks", .object(JSONObject([("url", .string("\(stack.echo.baseURL)/.well-known/jwks.json"))]))),
            ], extra: [("scopesClaim", "scp"), ("consumerKeyClaim", "client_id")]),
            Self.issuer("certs", organization: organization, issuer: Self.certificateIssuer, keys: [
                ("certificate", .object(JSONObject([("certificateInline", .string(certificates.publicKeyPEM))]))),
            ]),
            Self.issuer("tls", organization: organization, issuer: Self.tlsIssuer, keys: [
                ("jwks", .object(JSONObject([
                    ("url", .string(tlsJWKS)),
                    ("tls", .object(JSONObject([("certificateInline", .string(certificatePEM))]))),
                ]))),
            ]),
            Self.issuer("elsewhere", organization: "another-organization", issuer: Self.elsewhereIssuer, keys: [
                ("certificate", .object(JSONObject([("certificateInline", .string(elsewhere.publicKeyPEM))]))),
            ]),
        ]
        try await GatewayFlowTests().withStore { store in
            for issuer in issuers { _ = try await store.resources.applyResource(issuer, namespace: stack.namespace) }
        }
        #expect(try await Poll.until(every: .milliseconds(50)) { try await call("/orders", partnerAdmin).status == 200 },
                "\(mode): the partner's issuer reaches the gateway")
        #expect(try await Poll.until(every: .milliseconds(50)) { try await call("/orders", certificateToken).status == 200 },
                "\(mode): the certificate issuer")
        #expect(try await Poll.until(every: .milliseconds(50)) { try await call("/orders", tlsToken).status == 200 },
                "\(mode): the issuer whose JWKS is behind TLS with its own CA")
        #expect(try await call("/admin", partnerAdmin).status == 200, "scopes from the partner's scp claim")
        let reader = try await call("/admin", partnerReader)
        #expect(reader.status == 403 && reader.text.contains("900910"), "\(mode): \(reader.status) \(reader.text)")
        let wrongClaim = try await call("/admin", partnerWrongClaim)
        #expect(wrongClaim.status == 403, "`scope` is not where this issuer's scopes are: \(wrongClaim.status)")
        let elsewhereAnswer = try await call("/orders", elsewhereToken)
        #expect(elsewhereAnswer.status == 401 && elsewhereAnswer.text.contains("900903"),
                "\(mode): another organization's issuer is not trusted: \(elsewhereAnswer.status)")

        // Removed: its tokens stop working.
        try await GatewayFlowTests().withStore { store in
            _ = try await store.resources.deleteResource(ResourceKey(kind: "TokenIssuer", namespace: stack.namespace, name: "partner"))
        }
        #expect(try await Poll.until(every: .milliseconds(50)) { try await call("/orders", partnerAdmin).status == 401 },
                "\(mode): the removed issuer is no longer trusted")
        #expect(try await call("/orders", certificateToken).status == 200)
    }

    static func issuer(
        _ name: String, organization: String, issuer: String, keys: [(String, JSONValue)], extra: [(String, JSONValue)] = []
    ) -> K8sResource {
        K8sResource(
            apiVersion: "dp.wso2.com/v1alpha2", kind: "TokenIssuer", metadata: ObjectMeta(name: name),
            body: JSONObject([("spec", .object(JSONObject([
                ("name", .string(name)), ("organization", .string(organization)), ("issuer", .string(issuer)),
                ("signatureValidation", .object(JSONObject(keys))),
            ] + extra)))]))
    }
}
