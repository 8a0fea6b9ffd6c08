import APKProtos
import APKRatelimiter
import Testing

/// The rule set: the union of every organization's and environment's rules by descriptor value, refused as a whole
/// when a rule is unusable or a value has two limits; static rules from JSON.
@Suite struct RuleSetTests {
    static func config(
        _ organization: String, _ environment: String, _ rules: [(String, UInt32, Apk_Discovery_V1_RateLimit.Unit)]
    ) -> Apk_Discovery_V1_RateLimitConfig {
        var config = Apk_Discovery_V1_RateLimitConfig()
        config.organization = organization
        config.environment = environment
        config.rules = rules.map { value, requests, unit in
            var rule = Apk_Discovery_V1_RateLimitRule()
            rule.descriptorValue = value
            rule.limit.requestsPerUnit = requests
            rule.limit.unit = unit
            return rule
        }
        return config
    }

    private func code(_ configs: [Apk_Discovery_V1_RateLimitConfig]) -> RatelimiterError.Code? {
        do {
            _ = try RuleSet(configs: configs)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func unionOfAllResourcesWithSharedApiLevelRules() throws {
        let rules = try RuleSet(configs: [
            Self.config("org1", "prod", [("api-1", 10, .minute), ("op-1-GET-prod", 5, .second)]),
            // The API-level rule again (shared by environments), with the same limit: fine.
            Self.config("org1", "sandbox", [("api-1", 10, .minute), ("op-1-GET-sandbox", 2, .hour)]),
            Self.config("org2", "prod", [("api-2", 1000, .day)]),
        ])
        #expect(rules.count == 4)
        #expect(rules["api-1"] == RateLimitRule(descriptorValue: "api-1", requestsPerUnit: 10, unit: .minute))
        #expect(rules["op-1-GET-sandbox"]?.unit == .hour)
        #expect(rules["api-2"]?.requestsPerUnit == 1000)
        #expect(rules["unknown"] == nil)
        #expect(try RuleSet(configs: []) == .empty)
    }

    @Test func aValueWithTwoLimitsIsAConflict() {
        #expect(code([
            Self.config("org1", "prod", [("api-1", 10, .minute)]),
            Self.config("org1", "sandbox", [("api-1", 20, .minute)]),
        ]) == .conflictingRules)
        #expect(code([Self.config("org1", "prod", [("api-1", 10, .minute), ("api-1", 10, .hour)])]) == .conflictingRules)
    }

    @Test func unusableRulesAreRefused() {
        #expect(code([Self.config("o", "e", [("", 10, .minute)])]) == .invalidRule)
        #expect(code([Self.config("o", "e", [(String(repeating: "x", count: 513), 10, .minute)])]) == .invalidRule)
        #expect(code([Self.config("o", "e", [("r", 0, .minute)])]) == .invalidRule)
        #expect(code([Self.config("o", "e", [("r", 10, .unspecified)])]) == .invalidRule)
        #expect(code([Self.config("o", "e", [("r", 10, .UNRECOGNIZED(12))])]) == .invalidRule)
        var noLimit = Self.config("o", "e", [("r", 10, .minute)])
        noLimit.rules[0].clearLimit()
        #expect(code([noLimit]) == .invalidRule)
        // Local-share mode: the routers' shares must leave at least one hit to count here.
        var allLocal = Self.config("o", "e", [("r", 10, .minute)])
        allLocal.rules[0].localShareReserved = 10
        #expect(code([allLocal]) == .invalidRule)
    }

    @Test func localShareReservedIsPartOfTheRule() throws {
        var shared = Self.config("o", "prod", [("api-1", 600, .minute)])
        shared.rules[0].localShareReserved = 240
        let rules = try RuleSet(configs: [shared])
        #expect(rules["api-1"]?.localShareReserved == 240)
        #expect(rules["api-1"]?.countedLimit == 360)
        // The same value once shared and once exact is two limits.
        #expect(code([shared, Self.config("o", "sandbox", [("api-1", 600, .minute)])]) == .conflictingRules)
    }

    @Test func staticRulesFromJSON() throws {
        let one = try RuleSet(staticJSON: """
            {"organization":"default","environment":"Default","rules":[
              {"descriptorValue":"demo","limit":{"requestsPerUnit":5,"unit":"MINUTE"}}]}
            """)
        #expect(one["demo"] == RateLimitRule(descriptorValue: "demo", requestsPerUnit: 5, unit: .minute))
        let many = try RuleSet(staticJSON: """
            [{"rules":[{"descriptor_value":"a","limit":{"requests_per_unit":1,"unit":"SECOND"}}]},
             {"rules":[{"descriptorValue":"b","limit":{"requestsPerUnit":2,"unit":"DAY"}}]}]
            """)
        #expect(many.count == 2 && many["b"]?.unit == .day)
        #expect(throws: RatelimiterError.self) { try RuleSet(staticJSON: "{not json") }
        #expect(throws: RatelimiterError.self) { try RuleSet(staticJSON: #"{"rules":[{"descriptorValue":"a"}]}"#) }
    }

    @Test func ruleStoreIsReadyOnceASetIsInForce() throws {
        let store = RuleStore()
        #expect(!store.isReady && store.current.count == 0 && store.version == nil)
        store.replace(with: try RuleSet(rules: [RateLimitRule(descriptorValue: "a", requestsPerUnit: 1, unit: .day)]),
                      version: "v1")
        #expect(store.isReady && store.current.count == 1 && store.version == "v1")
        #expect(RuleStore(rules: .empty, version: "static").isReady)
    }
}
