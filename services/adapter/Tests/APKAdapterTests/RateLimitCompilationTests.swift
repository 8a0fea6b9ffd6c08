import APKAdapter
import APKModel
import APKProtos
import APKStore
import APKXDS
import EnvoyProtos
import Foundation
import SwiftProtobuf
import Testing

/// Quotas in the adapter (contract §8, issue 12): each rule becomes a route `rate_limits` entry with one compact
/// descriptor (`apk.rule`), API-level rules one counter for the whole API, operation-level ones one per environment
/// and method; the ratelimiter gets the same rules over APK discovery (`RateLimitConfig`); an API whose quota cannot
/// be honoured is not served. Through Envoy, a ratelimiter and Redis: `RateLimitTests` (test/Integration).
@Suite struct RateLimitCompilationTests {
    static let employee = GatewayStateTests.employee

    /// Descriptor values per route name (routes without a rule: none).
    static func descriptors(_ snapshot: Snapshot) throws -> [String: [String]] {
        var found: [String: [String]] = [:]
        for configuration in try GatewayStateTests.routeConfigurations(snapshot) {
            for route in configuration.virtualHosts.flatMap(\.routes) where !route.route.rateLimits.isEmpty {
                found[route.name] = route.route.rateLimits.map { limit in
                    #expect(limit.actions.count == 1 && limit.actions[0].genericKey.descriptorKey == "apk.rule")
                    return limit.actions[0].genericKey.descriptorValue
                }
            }
        }
        return found
    }

    static func rules(_ services: Snapshot?) throws -> [String: Apk_Discovery_V1_RateLimitRule] {
        var rules: [String: Apk_Discovery_V1_RateLimitRule] = [:]
        for any in services?.resources(ofType: TypeURL.rateLimitConfig).resources.values ?? [:].values {
            for rule in try Apk_Discovery_V1_RateLimitConfig(unpackingAny: any).rules { rules[rule.descriptorValue] = rule }
        }
        return rules
    }

    static func apiPolicy(requestsPerUnit: Int, unit: String) -> K8sResource {
        K8sResource(
            apiVersion: "dp.wso2.com/v1alpha1", kind: "RateLimitPolicy", metadata: ObjectMeta(name: "api-0-\(employee)"),
            body: JSONObject([("spec", .object(JSONObject([
                ("default", .object(JSONObject([("api", .object(JSONObject([
                    ("requestsPerUnit", .int(requestsPerUnit)), ("unit", .string(unit)),
                ])))]))),
                ("targetRef", .object(JSONObject([
                    ("group", "gateway.networking.k8s.io"), ("kind", "API"), ("name", .string(employee)),
                ]))),
            ])))]))
    }

    @Test func operationQuotasCountPerEnvironmentAndMethod() async throws {
        let fixture = InMemoryResourceStoreFixture()
        var state = try GatewayState(namespace: "default", settings: AdapterFixtures.settings)
        _ = state.load(try await fixture.snapshot())
        // Without its API-level security (mandatory mTLS is not served yet), as the "full-default-security" golden.
        var resources = try AdapterFixtures.resources("golden/bundles/full.yaml")
        resources.removeAll { ["Authentication", "APIPolicy"].contains($0.kind) && ResourceLookup.targetAPI(of: $0) != nil }
        let api = try #require(resources.first { $0.kind == "API" })
        _ = try await fixture.store.apply(
            AdapterFixtures.bundle(resources, api: api.name, organization: "default"), namespace: "default")
        let update = state.apply(try await fixture.events(after: state.cursor))
        let found = try Self.descriptors(try #require(update.snapshot))
        let policy = "resource-0-77bdfeb9e3c32e320b562f99a25e474ad86f56b5-orders-api-v2"
        let values = Set(found.values.flatMap(\.self))
        #expect(!found.isEmpty && values.allSatisfy { $0.hasPrefix("op:\(api.name):") && $0.hasSuffix(":\(policy)") }, "\(values)")
        // Each environment's routes count under their own environment (the bundle's production route of this
        // operation is not served: its Backend's CA is missing, so only sandbox routes carry the rule here).
        for (route, descriptors) in found {
            let environment = route.split(separator: "/").dropFirst().first.map(String.init) ?? "?"
            #expect(descriptors.allSatisfy { $0.contains(":\(environment):POST:") }, "\(route): \(descriptors)")
        }
        // The ratelimiter gets exactly these rules, 10 per minute each.
        let rules = try Self.rules(update.services)
        #expect(Set(rules.keys) == values)
        #expect(rules.values.allSatisfy { $0.limit.requestsPerUnit == 10 && $0.limit.unit == .minute && $0.apiID == api.name })
    }

    @Test func anAPIQuotaIsOneCounterForTheWholeAPIAndFollowsItsPolicy() async throws {
        let fixture = InMemoryResourceStoreFixture()
        var state = try GatewayState(namespace: "default", settings: AdapterFixtures.settings)
        _ = state.load(try await fixture.snapshot())
        let resources = try AdapterFixtures.resources("golden/bundles/employee.yaml")
        func deploy(_ extra: [K8sResource]) async throws -> GatewayState.Update {
            _ = try await fixture.store.apply(
                AdapterFixtures.bundle(resources + extra, api: Self.employee, organization: "default"), namespace: "default")
            return state.apply(try await fixture.events(after: state.cursor))
        }
        let limited = try await deploy([Self.apiPolicy(requestsPerUnit: 100, unit: "Hour")])
        let found = try Self.descriptors(try #require(limited.snapshot))
        #expect(!found.isEmpty && found.values.allSatisfy { $0 == ["api:\(Self.employee)"] }, "\(found)")
        let rule = try #require(try Self.rules(limited.services)["api:\(Self.employee)"])
        #expect(rule.limit.requestsPerUnit == 100 && rule.limit.unit == .hour && rule.operationID.isEmpty)

        // A limit that is not a count per a known unit: the API is not served (never without its quota).
        let broken = try await deploy([Self.apiPolicy(requestsPerUnit: 100, unit: "Fortnight")])
        #expect(broken.statuses[Self.employee]?.status == "Failed", "\(String(describing: broken.statuses[Self.employee]))")
        #expect(try Self.descriptors(try #require(broken.snapshot)).isEmpty)
        #expect(try Self.rules(broken.services).isEmpty, "the ratelimiter forgets the rule too")
    }

    @Test func withoutARatelimiterAnAPIWithAQuotaIsNotServed() async throws {
        var settings = AdapterFixtures.settings
        settings.rateLimiter = nil
        let fixture = InMemoryResourceStoreFixture()
        var state = try GatewayState(namespace: "default", settings: settings)
        _ = state.load(try await fixture.snapshot())
        let resources = try AdapterFixtures.resources("golden/bundles/employee.yaml") + [Self.apiPolicy(requestsPerUnit: 5, unit: "Minute")]
        _ = try await fixture.store.apply(
            AdapterFixtures.bundle(resources, api: Self.employee, organization: "default"), namespace: "default")
        let update = state.apply(try await fixture.events(after: state.cursor))
        let status = try #require(update.statuses[Self.employee])
        #expect(status.status == "Failed" && status.message.contains("RATELIMITER_URL"), "\(status)")
    }
}
