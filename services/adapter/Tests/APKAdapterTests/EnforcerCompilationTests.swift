import APKRuntime
import APKAdapter
import APKAuthPlan
import APKModel
import EnvoyProtos
import Foundation
import SwiftProtobuf
import Testing

/// `enforcer` mode: the same plans reach Envoy as ext_authz calls instead of native filters. Each secured route
/// carries its complete plan; unsecured routes make no call; the filter fails closed; the enforcer's denials are not
/// rewritten by the native mode's reply mappers. End to end: `AuthDifferentialTests` (test/Integration).
@Suite struct EnforcerCompilationTests {
    static let enforcer = XDSSettings.Upstream(host: "127.0.0.1", port: 8081, tls: false)

    static var settings: XDSSettings {
        var settings = AdapterFixtures.settings
        settings.auth.enforcement = .enforcer
        settings.auth.enforcer = XDSSettings.EnforcerLink(upstream: enforcer, timeoutMilliseconds: 250)
        return settings
    }

    static func edgeIR() throws -> APIIR {
        let resources = try AdapterFixtures.resources("adapter/edge-cases.in.yaml")
        let translation = ResourceTranslator().translate(
            api: try #require(resources.first { $0.kind == "API" && $0.name == "edge" }), namespace: "default",
            lookup: ResourceLookup(resources))
        return try #require(translation.api, "\(translation.problems)")
    }

    @Test func securedRoutesCarryTheirPlanAndOpenOnesMakeNoCall() throws {
        let ir = try Self.edgeIR()
        let routes = try XDSTranslator.resources(for: ir, settings: Self.settings).versionedRoutes.values.flatMap(\.self)
        #expect(!routes.isEmpty)
        #expect(routes.allSatisfy { $0.typedPerFilterConfig["envoy.filters.http.jwt_authn"] == nil })
        #expect(routes.allSatisfy { $0.typedPerFilterConfig["envoy.filters.http.rbac"] == nil })
        var plans: [RoutePlan] = []
        for route in routes {
            guard let any = route.typedPerFilterConfig["envoy.filters.http.ext_authz"] else { continue }
            let perRoute = try Envoy_Extensions_Filters_Http_ExtAuthz_V3_ExtAuthzPerRoute(unpackingAny: any)
            let text = try #require(perRoute.checkSettings.contextExtensions[RoutePlan.contextKey])
            plans.append(try #require(RoutePlan.decode(text), "\(route.name)"))
        }
        #expect(plans.allSatisfy { $0.api.apiID == "edge" && $0.operation.secured })
        let items = try #require(plans.first { $0.operation.scopes == ["edge:read", "edge:audit"] }, "every scope, in order")
        #expect(items.api.credentials == ir.auth.credentials)
        #expect(Set(plans.map(\.keyType)).isSubset(of: [.production, .sandbox]))
        // Exactly the secured operations call the enforcer.
        let securedOperations = Set(ir.environments.flatMap(\.routes).filter(\.auth.secured).map(\.operation))
        #expect(!securedOperations.isEmpty)
        for route in routes {
            let operation = route.metadata.filterMetadata["apk"]?.fields["operation"]?.stringValue ?? ""
            #expect((route.typedPerFilterConfig["envoy.filters.http.ext_authz"] != nil) == securedOperations.contains(operation),
                    "\(route.name)")
        }
    }

    @Test func theFilterFailsClosedAndSendsOnlyCredentialHeaders() throws {
        let listeners = try XDSTranslator.listeners(settings: Self.settings)
        #expect(listeners.count == 2)
        for listener in listeners {
            let hcm = try Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager(
                unpackingAny: try #require(listener.filterChains.first?.filters.first?.typedConfig))
            #expect(hcm.httpFilters.map(\.name) == [
                "envoy.filters.http.cors", "envoy.filters.http.ext_authz", "apk.subscription",
                "envoy.filters.http.ratelimit", "envoy.filters.http.lua", "envoy.filters.http.router",
            ])
            let filter = try #require(hcm.httpFilters.dropFirst().first)
            #expect(filter.disabled, "only routes with a plan call the enforcer")
            let config = try Envoy_Extensions_Filters_Http_ExtAuthz_V3_ExtAuthz(unpackingAny: filter.typedConfig)
            #expect(!config.failureModeAllow)
            #expect(config.statusOnError.code == .serviceUnavailable)
            #expect(config.grpcService.envoyGrpc.clusterName == "apk-system/enforcer")
            #expect(config.grpcService.timeout == Google_Protobuf_Duration(seconds: 0, nanos: 250_000_000))
            #expect(config.transportApiVersion == .v3)
            #expect(config.encodeRawHeaders)
            #expect(config.allowedHeaders.patterns.map(\.exact) == ["authorization", "internal-key", "apikey"])
            // The enforcer's denials pass unchanged; only its absence is mapped (503 + UAEX only), and the shared
            // subscription stage's 403 (recognised by its shadow result in metadata) gets the 900908 body.
            let mappers = hcm.localReplyConfig.mappers
            #expect(!mappers.contains { $0.statusCode.value == 401 })
            #expect(mappers.filter { $0.statusCode.value == 403 }.map(\.bodyFormatOverride.textFormatSource.inlineString)
                == [Denial.notSubscribed.body])
            let first = try #require(mappers.first)
            #expect(first.filter.andFilter.filters.map(\.statusCodeFilter.comparison.value.defaultValue).contains(503))
            #expect(first.filter.andFilter.filters.flatMap(\.responseFlagFilter.flags) == ["UAEX"])
            #expect(first.bodyFormatOverride.jsonFormat.fields["code"]?.stringValue == "102517")
        }
    }

    /// Issue 14 item 3: the router lets an idle connection to one of our HTTP services go before the service's
    /// header timeout (30 s by default) closes it, so no request is ever sent on a connection being closed.
    @Test func systemHTTPClustersCloseIdleConnectionsBeforeTheServicesDo() throws {
        let system = try XDSTranslator.systemResources(settings: Self.settings)
        let deployer = try #require(system.clusters.first { $0.name == "apk-system/deployer" })
        let options = try Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions(
            unpackingAny: try #require(deployer.typedExtensionProtocolOptions["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]))
        let idle = options.commonHTTPProtocolOptions.idleTimeout.seconds
        #expect(idle > 0 && Duration.seconds(idle) < ConnectionLimits().headerTimeout)
        guard case .httpProtocolOptions? = options.explicitHTTPConfig.protocolConfig else {
            Issue.record("the deployer cluster is not HTTP/1.1: \(options)")
            return
        }
    }

    @Test func theEnforcerIsAnHTTP2Cluster() throws {
        let system = try XDSTranslator.systemResources(settings: Self.settings)
        let cluster = try #require(system.clusters.first { $0.name == "apk-system/enforcer" })
        #expect(cluster.loadAssignment.endpoints.first?.lbEndpoints.first?.endpoint.address.socketAddress.portValue == 8081)
        let options = try Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions(
            unpackingAny: try #require(cluster.typedExtensionProtocolOptions["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]))
        guard case .http2ProtocolOptions? = options.explicitHTTPConfig.protocolConfig else {
            Issue.record("the enforcer cluster is not HTTP/2: \(options)")
            return
        }
        var none = AdapterFixtures.settings
        none.auth.enforcer = nil
        #expect(try !XDSTranslator.systemResources(settings: none).clusters.contains { $0.name == "apk-system/enforcer" },
                "no enforcer, no cluster")
    }
}
