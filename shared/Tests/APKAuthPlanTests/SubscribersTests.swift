import APKAuthPlan
import APKModel
import APKTestTokens
import Testing

/// Subscription validation's data (contract §7.5): who may call an API per key type, from Applications,
/// Subscriptions and ApplicationMappings; and the evaluator's decision with those lists (the same rule the gateway's
/// subscription stage compiles to: `SubscriptionHeaders.admits`).
@Suite struct SubscribersTests {
    typealias R = Subscribers.Resource

    static func application(_ name: String, org: String = "default", clients: [(env: String, key: String, type: String)]) -> R<ApplicationSpec> {
        R(name: name, spec: ApplicationSpec(
            name: name, owner: "alice", organization: org,
            securitySchemes: .init(oauth2: .init(environments: clients.map { .init(envId: $0.env, appId: $0.key, keyType: $0.type) }))))
    }

    static func subscription(_ name: String, api: String = "orders", version: String = "1.0", status: String = "ACTIVE", org: String = "default") -> R<SubscriptionSpec> {
        R(name: name, spec: SubscriptionSpec(subscriptionStatus: status, organization: org, api: .init(name: api, version: version)))
    }

    static func mapping(_ app: String, _ sub: String) -> R<ApplicationMappingSpec> {
        R(name: "\(app)-\(sub)", spec: ApplicationMappingSpec(applicationRef: app, subscriptionRef: sub))
    }

    func lists(
        applications: [R<ApplicationSpec>], subscriptions: [R<SubscriptionSpec>], mappings: [R<ApplicationMappingSpec>],
        environment: String? = nil
    ) -> [KeyType: SubscriptionAllowList] {
        Subscribers.allowLists(
            organization: "default", apiName: "orders", apiVersion: "1.0", environment: environment,
            applications: applications, subscriptions: subscriptions, mappings: mappings)
    }

    @Test func activeSubscriptionsGrantTheirApplicationsClientsPerKeyType() {
        let result = lists(
            applications: [
                Self.application("app-1", clients: [("Default", "c1-prod", "PRODUCTION"), ("Default", "c1-sbx", "SANDBOX"), ("eu", "c1-eu", "PRODUCTION")]),
                Self.application("app-2", clients: [("Default", "c2", "PRODUCTION")]),
                Self.application("app-3", clients: [("Default", "c3", "PRODUCTION")]),
            ],
            subscriptions: [Self.subscription("s1"), Self.subscription("s2", version: "2.0"), Self.subscription("s3", api: "other")],
            mappings: [Self.mapping("app-1", "s1"), Self.mapping("app-2", "s2"), Self.mapping("app-3", "s3"), Self.mapping("ghost", "s1")])
        #expect(result[.production] == SubscriptionAllowList(consumerKeys: ["c1-prod"], applications: ["app-1"]))
        #expect(result[.sandbox] == SubscriptionAllowList(consumerKeys: ["c1-sbx"], applications: ["app-1"]))
        // Another environment of the API: that environment's clients.
        let eu = lists(
            applications: [Self.application("app-1", clients: [("Default", "c1-prod", "PRODUCTION"), ("eu", "c1-eu", "PRODUCTION")])],
            subscriptions: [Self.subscription("s1")], mappings: [Self.mapping("app-1", "s1")], environment: "eu")
        #expect(eu[.production]?.consumerKeys == ["c1-eu"])
    }

    @Test func statesOrganizationsAndExactVersionsDecide() {
        let app = Self.application("app-1", clients: [("Default", "p", "PRODUCTION"), ("Default", "s", "SANDBOX")])
        func with(_ subscription: R<SubscriptionSpec>, app: R<ApplicationSpec> = app) -> [KeyType: SubscriptionAllowList] {
            lists(applications: [app], subscriptions: [subscription], mappings: [Self.mapping(app.name, subscription.name)])
        }
        #expect(with(Self.subscription("s", status: "BLOCKED"))[.production] == SubscriptionAllowList.none)
        #expect(with(Self.subscription("s", status: "BLOCKED"))[.sandbox] == SubscriptionAllowList.none)
        let prodBlocked = with(Self.subscription("s", status: "PROD_ONLY_BLOCKED"))
        #expect(prodBlocked[.production] == SubscriptionAllowList.none && prodBlocked[.sandbox]?.consumerKeys == ["s"])
        #expect(with(Self.subscription("s", version: "1.*"))[.production] == SubscriptionAllowList.none, "versions compare exactly")
        #expect(with(Self.subscription("s", org: "acme"))[.production] == SubscriptionAllowList.none)
        #expect(with(Self.subscription("s"), app: Self.application("app-1", org: "acme", clients: [("Default", "p", "PRODUCTION")]))[.production]
            == SubscriptionAllowList.none, "an application of another organization")
    }

    @Test func theEvaluatorAppliesTheListsAfterScopes() {
        var api = try! AuthPlanBuilder.api(id: "api-1", organization: "default", authentication: nil, policy: nil)
        api.subscriptionValidation = true
        let operation = OperationAuthPlan(target: "/orders", secured: true, scopes: ["orders:read"])
        func decide(_ headers: [(String, String)], _ list: SubscriptionAllowList) -> Decision {
            AuthEvaluator.decide(
                api: api, operation: operation, keyType: .production,
                request: AuthRequest(method: "GET", headers: headers.map { (name: $0.0, value: $0.1) }), keys: F.keys,
                now: F.now, subscribers: list)
        }
        let token = "Bearer " + F.token(F.claims([("azp", "client-a")]))
        let listed = SubscriptionAllowList(consumerKeys: ["client-a"], applications: [])
        guard case .allow(let allowance) = decide([("Authorization", token)], listed) else {
            Issue.record("a subscribed client is allowed")
            return
        }
        #expect(allowance.setHeaders.map(\.name) == ["x-apk-auth", "x-apk-consumer-key"])
        #expect(decide([("Authorization", token)], .none).denial == .notSubscribed)
        // A token without the consumer-key claim is not subscribed to anything.
        #expect(decide([("Authorization", "Bearer " + F.token())], listed).denial == .notSubscribed)
        // Scopes are checked first (the reference's order).
        let noScope = "Bearer " + F.token(F.claims([("azp", "client-a"), ("scope", "other")]))
        #expect(decide([("Authorization", noScope)], .none).denial?.code == 900910)
        // Internal keys are not subscription-checked.
        #expect(decide([("Internal-Key", F.internalKey(api: "api-1"))], .none).isAllowed)
        #expect(Denial.notSubscribed.body.contains("\"code\": 900908"))
    }
}
