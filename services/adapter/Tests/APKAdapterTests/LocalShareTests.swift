import APKAdapter
import APKModel
import APKProtos
import APKStore
import APKSupport
import APKXDS
import EnvoyProtos
import Foundation
import SwiftProtobuf
import Testing

/// Local-share mode (issue 12 §5): the arithmetic of a router's share, and what the adapter compiles — two
/// non-enforcing `local_ratelimit` stages (ECDS) before the `ratelimit` filter, routes that ask the ratelimiter only
/// for requests tagged as beyond the share, and rules that tell the ratelimiter how much the shares take. Small
/// quotas stay exact. Through Envoy, the ratelimiter and Redis: `RateLimitTests.localShare…` (test/Integration).
@Suite struct LocalShareTests {
    static let employee = GatewayStateTests.employee

    static func settings(fraction: Double = 0.5, replicas: Int = 1, https: Bool = true) -> XDSSettings {
        var settings = AdapterFixtures.settings
        if !https { settings.tls = nil }
        settings.rateLimiter?.localShare = LocalShareSettings(fraction: fraction, routerReplicas: replicas)
        return settings
    }

    static func limit(_ requests: Int, _ unit: String, _ descriptor: String = "api:x") throws -> RateLimitIR {
        let spec = RateLimitPolicySpec(
            default: .init(api: .init(requestsPerUnit: requests, unit: unit)),
            targetRef: .init(group: "gateway.networking.k8s.io", kind: "API", name: "x"))
        return try #require(RateLimitIR(spec: spec, descriptor: descriptor))
    }

    @Test func aRoutersShareIsAnEvenRateOfItsPartOfTheQuota() throws {
        // 600/min, half shared, one router with one listener: 300 per window = 5 per second locally.
        let single = try #require(Self.settings(https: false).localShare(for: try Self.limit(600, "Minute")))
        #expect(single.tokensPerFill == 5 && single.fillIntervalMilliseconds == 1000 && single.reservedPerWindow == 300)
        #expect(single.level == .api)
        // Two listeners (HTTPS and HTTP) each hold a bucket: 150 per window each → 2 per second (rounded down), so
        // together they take 2 × 2 × 60 = 240 and the ratelimiter counts the other 360.
        let twoListeners = try #require(Self.settings().localShare(for: try Self.limit(600, "Minute")))
        #expect(twoListeners.tokensPerFill == 2 && twoListeners.reservedPerWindow == 240)
        // Three replicas: 50 per listener per window, under one per second → exact.
        #expect(Self.settings(replicas: 3).localShare(for: try Self.limit(600, "Minute")) == nil)
        // Per-second quotas refill every 100 ms when that still is a whole token (smaller overshoot)...
        let fast = try #require(Self.settings(https: false).localShare(for: try Self.limit(100, "Second", "op:x")))
        #expect(fast.tokensPerFill == 5 && fast.fillIntervalMilliseconds == 100 && fast.reservedPerWindow == 50)
        #expect(fast.level == .operation)
        // ...else every second.
        let slow = try #require(Self.settings(https: false).localShare(for: try Self.limit(15, "Second")))
        #expect(slow.tokensPerFill == 7 && slow.fillIntervalMilliseconds == 1000 && slow.reservedPerWindow == 7)
        // Small quotas stay exact; so does everything with the mode off.
        #expect(Self.settings().localShare(for: try Self.limit(5, "Minute")) == nil)
        #expect(AdapterFixtures.settings.localShare(for: try Self.limit(600_000, "Minute")) == nil)
        // The shares never take the whole quota: the ratelimiter always has some to count.
        for requests in [1, 2, 60, 61, 119, 120, 121, 7200, 1_000_000] {
            for unit in ["Second", "Minute", "Hour", "Day"] {
                let limit = try Self.limit(requests, unit)
                if let share = Self.settings(fraction: 0.99, https: false).localShare(for: limit) {
                    #expect(Int(share.reservedPerWindow) < requests, "\(requests)/\(unit)")
                }
            }
        }
    }

    @Test func settingsAreValidated() throws {
        let on = try AdapterConfiguration(reader: ConfigReader(environment: [
            "RATELIMIT_LOCAL_SHARE": "0.25", "ROUTER_REPLICAS": "3",
        ]))
        #expect(on.xds.rateLimiter?.localShare == LocalShareSettings(fraction: 0.25, routerReplicas: 3))
        #expect(try AdapterConfiguration(reader: ConfigReader(environment: [:])).xds.rateLimiter?.localShare == nil)
        #expect(try AdapterConfiguration(reader: ConfigReader(environment: ["RATELIMIT_LOCAL_SHARE": "off"]))
            .xds.rateLimiter?.localShare == nil)
        for bad in ["1", "1.5", "-0.1", "half"] {
            #expect(throws: ConfigReader.Failure.self) {
                try AdapterConfiguration(reader: ConfigReader(environment: ["RATELIMIT_LOCAL_SHARE": bad]))
            }
        }
        #expect(throws: ConfigReader.Failure.self) {
            try AdapterConfiguration(reader: ConfigReader(environment: [
                "RATELIMIT_LOCAL_SHARE": "0.5", "ROUTER_REPLICAS": "0",
            ]))
        }
    }

    /// The ECDS configuration of one stage.
    static func stage(_ snapshot: Snapshot, _ level: RateLimitLevel) throws
        -> Envoy_Extensions_Filters_Http_LocalRatelimit_V3_LocalRateLimit
    {
        let any = try #require(snapshot.resources(ofType: TypeURL.extensionConfig).resources[level.filterName])
        let config = try Envoy_Config_Core_V3_TypedExtensionConfig(unpackingAny: any)
        return try Envoy_Extensions_Filters_Http_LocalRatelimit_V3_LocalRateLimit(unpackingAny: config.typedConfig)
    }

    @Test func largeQuotasGetALocalStageAndSmallOnesStayExact() async throws {
        let fixture = InMemoryResourceStoreFixture()
        var state = try GatewayState(namespace: "default", settings: Self.settings())
        let loaded = try #require(state.load(try await fixture.snapshot()).snapshot)
        // The listeners hold both stages, before the ratelimit filter; before any quota both are empty (but
        // published: the listener waits for them).
        let listener = try Envoy_Config_Listener_V3_Listener(
            unpackingAny: try #require(loaded.resources(ofType: TypeURL.listener).resources.values.first))
        let hcm = try Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager(
            unpackingAny: listener.filterChains[0].filters[0].typedConfig)
        let names = hcm.httpFilters.map(\.name)
        let api = try #require(names.firstIndex(of: "apk.local_share.api"))
        let operation = try #require(names.firstIndex(of: "apk.local_share.operation"))
        let global = try #require(names.firstIndex(of: "envoy.filters.http.ratelimit"))
        #expect(api < global && operation < global, "\(names)")
        #expect(hcm.httpFilters[api].configDiscovery.typeUrls == [XDSTranslator.localShareTypeURL])
        #expect(try Self.stage(loaded, .api).descriptors.isEmpty)

        let resources = try AdapterFixtures.resources("golden/bundles/employee.yaml")
        func deploy(_ requests: Int, _ unit: String) async throws -> GatewayState.Update {
            _ = try await fixture.store.apply(
                AdapterFixtures.bundle(
                    resources + [RateLimitCompilationTests.apiPolicy(requestsPerUnit: requests, unit: unit)],
                    api: Self.employee, organization: "default"),
                namespace: "default")
            return state.apply(try await fixture.events(after: state.cursor))
        }
        let value = "api:\(Self.employee)"
        let large = try await deploy(600, "Minute")
        let snapshot = try #require(large.snapshot)
        // Every route of the API names the quota for the stage, asks the ratelimiter only when tagged, and keeps
        // the tag from the backend.
        let all: [Envoy_Config_Route_V3_Route] = try GatewayStateTests.routeConfigurations(snapshot)
            .flatMap { $0.virtualHosts.flatMap(\.routes) }
        let routes = all.filter { route in
            guard case .route = route.action else { return false }
            return route.name.hasPrefix(Self.employee)
        }
        #expect(!routes.isEmpty)
        for route in routes {
            #expect(route.metadata.filterMetadata["apk"]?.fields["rate_limit_api"]?.stringValue == value, "\(route.name)")
            let action = try #require(route.route.rateLimits.first?.actions.first)
            #expect(action.headerValueMatch.descriptorKey == "apk.rule" && action.headerValueMatch.descriptorValue == value)
            #expect(action.headerValueMatch.headers.map(\.name) == ["x-apk-rl-share-api"])
            #expect(action.headerValueMatch.headers.first?.presentMatch == true)
            #expect(route.requestHeadersToRemove.contains("x-apk-rl-share-api"))
        }
        // The stage holds the quota's bucket: 2 per second per listener (see the arithmetic test).
        let stage = try Self.stage(snapshot, .api)
        #expect(stage.descriptors.count == 1)
        #expect(stage.descriptors.first?.entries.map(\.value) == [value])
        #expect(stage.descriptors.first?.tokenBucket.maxTokens == 2)
        #expect(stage.descriptors.first?.tokenBucket.tokensPerFill.value == 2)
        #expect(stage.filterEnforced.defaultValue.numerator == 0 && stage.filterEnabled.defaultValue.numerator == 100)
        #expect(stage.requestHeadersToAddWhenNotEnforced.map(\.header.key) == ["x-apk-rl-share-api"])
        #expect(stage.rateLimits.first?.actions.first?.metadata.metadataKey.path.map(\.key) == ["rate_limit_api"])
        #expect(try Self.stage(snapshot, .operation).descriptors.isEmpty)
        // The ratelimiter counts what the shares leave.
        let rule = try #require(try RateLimitCompilationTests.rules(large.services)[value])
        #expect(rule.limit.requestsPerUnit == 600 && rule.localShareReserved == 240)

        // A small quota: exact (generic_key, no bucket, nothing reserved).
        let small = try await deploy(5, "Minute")
        let exact = try #require(small.snapshot)
        #expect(try RateLimitCompilationTests.descriptors(exact).values.allSatisfy { $0 == [value] })
        #expect(try Self.stage(exact, .api).descriptors.isEmpty)
        #expect(try RateLimitCompilationTests.rules(small.services)[value]?.localShareReserved == 0)
    }
}
