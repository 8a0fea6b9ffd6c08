import APKAuthPlan
import APKModel
import Testing

@Suite("Auth plan builder")
struct AuthPlanBuilderTests {
    let target = TargetRef(group: "gateway.networking.k8s.io", kind: "API", name: "api-1")

    func authentication(
        disabled: Bool? = nil, oauth2: AuthenticationSpec.OAuth2? = nil, apiKey: AuthenticationSpec.APIKey? = nil,
        mtls: AuthenticationSpec.MTLS? = nil, jwt: AuthenticationSpec.JWT? = nil
    ) -> AuthenticationSpec {
        let types = oauth2 == nil && apiKey == nil && mtls == nil && jwt == nil
            ? nil : AuthenticationSpec.AuthTypes(oauth2: oauth2, jwt: jwt, apiKey: apiKey, mtls: mtls)
        return AuthenticationSpec(default: .init(disabled: disabled, authTypes: types), targetRef: target)
    }

    @Test("no Authentication: OAuth2 on Authorization plus internal keys")
    func defaults() throws {
        let plan = try AuthPlanBuilder.api(id: "api-1", organization: "org", authentication: nil, policy: nil)
        #expect(plan.credentials == [.oauth2(header: "authorization", sendToUpstream: true), .internalKey(header: "internal-key")])
        #expect(!plan.disabled)
    }

    @Test("OAuth2 settings are kept; disabled OAuth2 with nothing else is refused; a disabled API is open")
    func oauth2() throws {
        let custom = try AuthPlanBuilder.api(
            id: "api-1", organization: "org",
            authentication: authentication(oauth2: .init(
                header: "X-Token", sendTokenToUpstream: false, disabled: false, required: "mandatory")),
            policy: nil)
        #expect(custom.credentials.first == .oauth2(header: "x-token", sendToUpstream: false))
        #expect(throws: AuthPlanError.self) {
            try AuthPlanBuilder.api(
                id: "api-1", organization: "org",
                authentication: authentication(oauth2: .init(
                    header: "Authorization", sendTokenToUpstream: true, disabled: true, required: "mandatory")),
                policy: nil)
        }
        let open = try AuthPlanBuilder.api(
            id: "api-1", organization: "org", authentication: authentication(disabled: true), policy: nil)
        #expect(open.disabled)
    }

    @Test("API keys (header and query) and the JWT type: in plan order OAuth2, API keys, JWT, internal key")
    func apiKeysAndJWT() throws {
        let oauth2 = AuthenticationSpec.OAuth2(header: "Authorization", sendTokenToUpstream: true, disabled: false, required: "mandatory")
        let plan = try AuthPlanBuilder.api(
            id: "api-1", organization: "org",
            authentication: authentication(
                oauth2: oauth2,
                apiKey: .init(required: "optional", keys: [
                    .init(in: "Header", name: "ApiKey", sendTokenToUpstream: false),
                    .init(in: "Query", name: "apiKey", sendTokenToUpstream: true),
                ]),
                jwt: .init(header: "X-JWT", sendTokenToUpstream: false, disabled: false, audience: ["orders"])),
            policy: nil)
        #expect(plan.credentials == [
            .oauth2(header: "authorization", sendToUpstream: true),
            .apiKey(location: .header("apikey"), sendToUpstream: false),
            .apiKey(location: .query("apiKey"), sendToUpstream: true),  // query names keep their case
            .jwt(header: "x-jwt", sendToUpstream: false, audiences: ["orders"]),
            .internalKey(header: "internal-key"),
        ])
        // The JWT type alone: no internal keys (they go with OAuth2).
        let jwtOnly = try AuthPlanBuilder.api(
            id: "api-1", organization: "org",
            authentication: authentication(jwt: .init(header: "x-jwt", sendTokenToUpstream: false, disabled: false, audience: [])),
            policy: nil)
        #expect(jwtOnly.credentials == [.jwt(header: "x-jwt", sendToUpstream: false, audiences: [])])
        for bad in [
            AuthenticationSpec.APIKey.Key(in: "Cookie", name: "k", sendTokenToUpstream: false),
            .init(in: "Query", name: "a key", sendTokenToUpstream: false),
            .init(in: "Header", name: "bad header", sendTokenToUpstream: false),
        ] {
            #expect(throws: AuthPlanError.self) {
                try AuthPlanBuilder.api(
                    id: "api-1", organization: "org",
                    authentication: authentication(apiKey: .init(required: "optional", keys: [bad])), policy: nil)
            }
        }
    }

    @Test("subscription validation is part of the plan")
    func subscriptionValidation() throws {
        var details = APIPolicySpec.Details()
        details.subscriptionValidation = true
        let plan = try AuthPlanBuilder.api(
            id: "api-1", organization: "org", authentication: nil, policy: APIPolicySpec(default: details, targetRef: target))
        #expect(plan.subscriptionValidation)
        #expect(try !AuthPlanBuilder.api(id: "api-1", organization: "org", authentication: nil, policy: nil).subscriptionValidation)
    }

    @Test("what the gateway cannot enforce yet is an error, never dropped", arguments: [
        "mtls", "header",
    ])
    func unsupported(_ kind: String) {
        let oauth2 = AuthenticationSpec.OAuth2(header: "Authorization", sendTokenToUpstream: true, disabled: false, required: "mandatory")
        var spec: AuthenticationSpec?
        let policy: APIPolicySpec? = nil
        switch kind {
        case "mtls":
            spec = authentication(oauth2: oauth2, mtls: .init(disabled: false, required: "mandatory"))
        case "header":
            spec = authentication(oauth2: .init(header: "bad header", sendTokenToUpstream: true, disabled: false, required: "mandatory"))
        default:
            Issue.record("unknown case \(kind)")
        }
        #expect(throws: AuthPlanError.self) {
            try AuthPlanBuilder.api(id: "api-1", organization: "org", authentication: spec, policy: policy)
        }
    }

    @Test("operations: the no-authentication reference unsecures, scopes are merged in order without duplicates")
    func operations() throws {
        let off = AuthenticationSpec(default: .init(disabled: true), targetRef: target)
        #expect(try AuthPlanBuilder.operation(target: "/a", authentications: [off], scopes: [.init(names: ["s"])])
            == OperationAuthPlan(target: "/a", secured: false, scopes: []))
        let plan = try AuthPlanBuilder.operation(
            target: "/a", authentications: [], scopes: [.init(names: ["b", "a"]), .init(names: ["a", "c"])])
        #expect(plan == OperationAuthPlan(target: "/a", secured: true, scopes: ["b", "a", "c"]))
        #expect(throws: AuthPlanError.self) {
            try AuthPlanBuilder.operation(target: "/a", authentications: [], scopes: [.init(names: ["has space"])])
        }
    }
}
