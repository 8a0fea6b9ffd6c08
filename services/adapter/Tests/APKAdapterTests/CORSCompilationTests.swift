import APKAdapter
import APKAuthPlan
import APKModel
import EnvoyProtos
import Foundation
import SwiftProtobuf
import Testing

/// CORS (contract §4.7, §7.8) as the adapter compiles it: the API's own `cORSPolicy` or the gateway's default on every
/// route, a preflight route per resource (OPTIONS, answered by the router, never authenticated), and the `cors` filter
/// first on the listeners. Through a real Envoy: `CORSTests` (test/Integration).
@Suite struct CORSCompilationTests {
    static func policy(api: String, _ cors: JSONValue) -> K8sResource {
        K8sResource(
            apiVersion: "dp.wso2.com/v1alpha4", kind: "APIPolicy", metadata: ObjectMeta(name: "\(api)-api-policy"),
            body: JSONObject([("spec", .object(JSONObject([
                ("default", .object(JSONObject([("cORSPolicy", cors)]))),
                ("targetRef", .object(JSONObject([
                    ("group", .string("gateway.networking.k8s.io")), ("kind", .string("API")), ("name", .string(api)),
                ]))),
            ])))]))
    }

    static let custom: JSONValue = .object(JSONObject([
        ("enabled", .bool(true)), ("accessControlAllowOrigins", .array(["abc.com"])),
        ("accessControlAllowCredentials", .bool(true)), ("accessControlAllowMethods", .array(["GET", "POST", "PUT", "DELETE"])),
        ("accessControlAllowHeaders", .array(["Content-Type", "Authorization"])), ("accessControlMaxAge", .int(3600)),
    ]))

    static func routes(
        extra: [K8sResource] = [], settings: XDSSettings
    ) throws -> [Envoy_Config_Route_V3_Route] {
        let resources = try AdapterFixtures.resources("adapter/edge-cases.in.yaml") + extra
        let translation = ResourceTranslator().translate(
            api: try #require(resources.first { $0.kind == "API" && $0.name == "edge" }), namespace: "default",
            lookup: ResourceLookup(resources))
        let ir = try #require(translation.api, "\(translation.problems)")
        return try XDSTranslator.resources(for: ir, settings: settings).versionedRoutes.values.flatMap(\.self)
    }

    static func cors(_ route: Envoy_Config_Route_V3_Route) throws -> Envoy_Extensions_Filters_Http_Cors_V3_CorsPolicy? {
        try route.typedPerFilterConfig["envoy.filters.http.cors"].map {
            try Envoy_Extensions_Filters_Http_Cors_V3_CorsPolicy(unpackingAny: $0)
        }
    }

    static func isPreflight(_ route: Envoy_Config_Route_V3_Route) -> Bool { route.name.hasSuffix("/preflight") }

    @Test func theGatewayDefaultGivesEveryResourceAPreflightRoute() throws {
        var settings = AdapterFixtures.settings
        settings.corsDefault = .gatewayDefault
        let routes = try Self.routes(settings: settings)
        let operations = routes.filter { !Self.isPreflight($0) }
        let preflights = routes.filter(Self.isPreflight)
        #expect(!preflights.isEmpty)
        // One preflight per resource path (several methods of one path share it), except where a method-less
        // operation routes OPTIONS to the backend itself.
        let methodless = Set(operations.filter { !$0.match.headers.contains { $0.name == ":method" } }.map(\.match.safeRegex.regex))
        #expect(!methodless.isEmpty, "the fixture has method-less operations")
        // Redirects answer in the gateway and get none either (a preflight route needs a cluster to name).
        let forwarded = operations.filter { !$0.route.cluster.isEmpty }
        #expect(forwarded.count < operations.count, "the fixture has a redirect")
        #expect(Set(preflights.map(\.match.safeRegex.regex)) == Set(forwarded.map(\.match.safeRegex.regex)).subtracting(methodless))
        #expect(preflights.count == Set(preflights.map { "\($0.match.safeRegex.regex) \($0.name.contains("/default/"))" }).count)
        for route in preflights {
            #expect(route.match.headers.map(\.stringMatch.exact) == ["OPTIONS"])
            // A route action (the cors filter skips direct responses) whose cluster is never reached: the Lua
            // responder answers what the cors filter does not.
            #expect(!route.route.cluster.isEmpty)
            let responder = try Envoy_Extensions_Filters_Http_Lua_V3_LuaPerRoute(
                unpackingAny: try #require(route.typedPerFilterConfig["envoy.filters.http.lua"]))
            #expect(responder.name == "apk-preflight")
            // Never authenticated: jwt_authn off, no RBAC.
            let jwt = try Envoy_Extensions_Filters_Http_JwtAuthn_V3_PerRouteConfig(
                unpackingAny: try #require(route.typedPerFilterConfig["envoy.filters.http.jwt_authn"]))
            #expect(jwt.disabled)
            #expect(route.typedPerFilterConfig["envoy.filters.http.rbac"] == nil)
        }
        for route in routes {
            let policy = try #require(try Self.cors(route), "\(route.name)")
            #expect(policy.allowOriginStringMatch.map(\.safeRegex.regex) == [".*"])
            #expect(policy.allowMethods == "GET, POST, PUT, DELETE, PATCH, OPTIONS")
            #expect(policy.allowHeaders == "authorization, Access-Control-Allow-Origin, Content-Type, Internal-key, apiKey")
            #expect(policy.exposeHeaders == "*")
            #expect(policy.allowCredentials.value == false && policy.maxAge.isEmpty)
            #expect(policy.forwardNotMatchingPreflights.value == false)
        }
    }

    @Test func theAPIsOwnPolicyWinsAndCanTurnCORSOff() throws {
        var settings = AdapterFixtures.settings
        settings.corsDefault = .gatewayDefault
        let custom = try Self.routes(extra: [Self.policy(api: "edge", Self.custom)], settings: settings)
        for route in custom {
            let policy = try #require(try Self.cors(route))
            #expect(policy.allowOriginStringMatch.map(\.exact) == ["abc.com"])
            #expect(policy.allowMethods == "GET, POST, PUT, DELETE" && policy.allowHeaders == "Content-Type, Authorization")
            #expect(policy.allowCredentials.value && policy.maxAge == "3600")
        }
        let off = try Self.routes(
            extra: [Self.policy(api: "edge", .object(JSONObject([("enabled", .bool(false))])))], settings: settings)
        #expect(off.allSatisfy { $0.typedPerFilterConfig["envoy.filters.http.cors"] == nil })
        #expect(!off.contains(where: Self.isPreflight))
        // No default on the gateway: an API without a policy has no CORS; one with a policy still has it.
        settings.corsDefault = nil
        #expect(!(try Self.routes(settings: settings)).contains(where: Self.isPreflight))
        #expect((try Self.routes(extra: [Self.policy(api: "edge", Self.custom)], settings: settings)).contains(where: Self.isPreflight))
    }

    @Test func aPolicyThatCannotBeAHeaderIsNotServed() throws {
        let bad: JSONValue = .object(JSONObject([("enabled", .bool(true)), ("accessControlAllowOrigins", .array(["a.com\r\nx: y"]))]))
        let resources = try AdapterFixtures.resources("adapter/edge-cases.in.yaml") + [Self.policy(api: "edge", bad)]
        let translation = ResourceTranslator().translate(
            api: try #require(resources.first { $0.kind == "API" && $0.name == "edge" }), namespace: "default",
            lookup: ResourceLookup(resources))
        #expect(translation.api == nil)
        #expect(translation.problems.contains { $0.contains("CORS accessControlAllowOrigins") }, "\(translation.problems)")
    }

    @Test func inEnforcerModePreflightsMakeNoCallAndTheFilterRunsFirst() throws {
        var settings = EnforcerCompilationTests.settings
        settings.corsDefault = .gatewayDefault
        let preflights = try Self.routes(settings: settings).filter(Self.isPreflight)
        #expect(!preflights.isEmpty)
        #expect(preflights.allSatisfy { $0.typedPerFilterConfig.keys.sorted() == ["envoy.filters.http.cors", "envoy.filters.http.lua"] })
        for mode in [AdapterFixtures.settings, settings] {
            let listener = try #require(try XDSTranslator.listeners(settings: mode).first)
            let hcm = try Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager(
                unpackingAny: try #require(listener.filterChains.first?.filters.first?.typedConfig))
            #expect(hcm.httpFilters.first?.name == "envoy.filters.http.cors", "before the security filters")
            #expect(hcm.httpFilters.suffix(2).map(\.name) == ["envoy.filters.http.lua", "envoy.filters.http.router"])
            #expect(hcm.httpFilters.dropLast().last?.disabled == true, "the responder runs only where a route names it")
        }
    }
}

/// Backend JWTs: the BackendJWT an API's APIPolicy names becomes part of its plan; the enforcer signs it — in
/// `enforcer` mode as part of its decision, in `native` mode on those routes only, after the native filters allowed
/// the request; without an enforcer such an API is not served (status says why) rather than served without it.
@Suite struct BackendJWTCompilationTests {
    static func policy(jwt: String) -> K8sResource {
        K8sResource(
            apiVersion: "dp.wso2.com/v1alpha4", kind: "APIPolicy", metadata: ObjectMeta(name: "edge-api-policy"),
            body: JSONObject([("spec", .object(JSONObject([
                ("default", .object(JSONObject([("backendJwtPolicy", .object(JSONObject([("name", .string(jwt))])))]))),
                ("targetRef", .object(JSONObject([
                    ("group", .string("gateway.networking.k8s.io")), ("kind", .string("API")), ("name", .string("edge")),
                ]))),
            ])))]))
    }

    static let backendJWT = K8sResource(
        apiVersion: "dp.wso2.com/v1alpha1", kind: "BackendJWT", metadata: ObjectMeta(name: "edge-jwt"),
        body: JSONObject([("spec", .object(JSONObject([
            ("encoding", .string("Base64")), ("signingAlgorithm", .string("SHA256withRSA")),
            ("header", .string("X-JWT-Assertion")), ("tokenTTL", .int(600)),
        ])))]))

    static func translate(_ extra: [K8sResource]) throws -> APITranslation {
        let resources = try AdapterFixtures.resources("adapter/edge-cases.in.yaml") + extra
        return ResourceTranslator().translate(
            api: try #require(resources.first { $0.kind == "API" && $0.name == "edge" }), namespace: "default",
            lookup: ResourceLookup(resources))
    }

    @Test func aMissingBackendJWTLeavesTheAPIOut() throws {
        let translation = try Self.translate([Self.policy(jwt: "edge-jwt")])
        #expect(translation.api == nil)
        #expect(translation.problems.contains { $0.contains("BackendJWT edge-jwt does not exist; the API is not served") },
                "\(translation.problems)")
    }

    @Test func theEnforcerSignsItInBothModes() throws {
        let translation = try Self.translate([Self.policy(jwt: "edge-jwt"), Self.backendJWT])
        let ir = try #require(translation.api, "\(translation.problems)")
        let plan = try #require(ir.auth.backendJWT)
        #expect(plan.header == "x-jwt-assertion" && plan.encoding == BackendJWTPlan.Encoding.base64)
        #expect(plan.ttlSeconds == 600 && plan.signed)
        var noEnforcer = AdapterFixtures.settings
        noEnforcer.systemEnforcerJWKS = nil
        #expect(throws: UnservableAPI.self) { try XDSTranslator.resources(for: ir, settings: noEnforcer) }
        noEnforcer.auth.backendJWTStage = .extAuthz
        noEnforcer.auth.enforcer = nil
        #expect(throws: UnservableAPI.self) { try XDSTranslator.resources(for: ir, settings: noEnforcer) }
        let routes = try XDSTranslator.resources(for: ir, settings: EnforcerCompilationTests.settings).versionedRoutes.values.flatMap(\.self)
        let plans = try routes.compactMap { route -> RoutePlan? in
            guard let any = route.typedPerFilterConfig["envoy.filters.http.ext_authz"] else { return nil }
            let text = try Envoy_Extensions_Filters_Http_ExtAuthz_V3_ExtAuthzPerRoute(unpackingAny: any).checkSettings.contextExtensions[RoutePlan.contextKey]
            return text.flatMap { RoutePlan.decode($0) }
        }
        #expect(!plans.isEmpty && plans.allSatisfy { $0.api.backendJWT == plan })

        // Native: the native filters decide; exactly the secured routes get the backend-JWT stage: by default the
        // per-worker Lua cache with the route's plan in its metadata, else ext_authz for the token only.
        let secured = Set(ir.environments.flatMap(\.routes).filter(\.auth.secured).map(\.operation))
        #expect(!secured.isEmpty)
        let native = try XDSTranslator.resources(for: ir, settings: AdapterFixtures.settings).versionedRoutes.values.flatMap(\.self)
        for route in native {
            let operation = route.metadata.filterMetadata["apk"]?.fields["operation"]?.stringValue ?? ""
            #expect((route.typedPerFilterConfig["apk.backend_jwt"] != nil) == secured.contains(operation), "\(route.name)")
            #expect(route.typedPerFilterConfig["envoy.filters.http.ext_authz"] == nil)
            guard let metadata = route.metadata.filterMetadata["apk.backend_jwt"]?.fields else { continue }
            let text = try #require(metadata["plan"]?.stringValue)
            #expect(RoutePlan.decode(text)?.api.backendJWT == plan)
            #expect(metadata["header"]?.stringValue == "x-jwt-assertion")
            #expect(metadata["credentials"]?.listValue.values.map(\.stringValue) == ["authorization", "internal-key"])
        }
        var extAuthz = AdapterFixtures.settings
        extAuthz.auth.backendJWTStage = .extAuthz
        for route in try XDSTranslator.resources(for: ir, settings: extAuthz).versionedRoutes.values.flatMap(\.self) {
            let operation = route.metadata.filterMetadata["apk"]?.fields["operation"]?.stringValue ?? ""
            let any = route.typedPerFilterConfig["envoy.filters.http.ext_authz"]
            #expect((any != nil) == secured.contains(operation), "\(route.name)")
            guard let any else { continue }
            #expect(route.typedPerFilterConfig["envoy.filters.http.jwt_authn"] != nil && route.typedPerFilterConfig["envoy.filters.http.rbac"] != nil)
            let extensions = try Envoy_Extensions_Filters_Http_ExtAuthz_V3_ExtAuthzPerRoute(unpackingAny: any).checkSettings.contextExtensions
            #expect(extensions[RoutePlan.contextKey] == nil, "the enforcer does not decide again")
            let jwtRoute = try #require(extensions[BackendJWTRoute.contextKey].flatMap(BackendJWTRoute.decode))
            #expect(jwtRoute.apiID == "edge" && jwtRoute.plan == plan)
        }
    }

    /// The native listeners get backend JWTs after `rbac` and the subscription stage (the Lua cache by default;
    /// with `ext_authz`, the enforcer with `jwt_authn`'s verified payloads and no header, fail closed); the enforcer's
    /// JWKS is served through the router (contract §7.7).
    @Test func nativeListenersAndTheJWKSRoute() throws {
        for listener in try XDSTranslator.listeners(settings: AdapterFixtures.settings) {
            let hcm = try Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager(
                unpackingAny: try #require(listener.filterChains.first?.filters.first?.typedConfig))
            #expect(hcm.httpFilters.map(\.name) == [
                "envoy.filters.http.cors", "envoy.filters.http.jwt_authn", "envoy.filters.http.rbac", "apk.subscription",
                "apk.backend_jwt", "envoy.filters.http.header_mutation", "envoy.filters.http.ratelimit", "envoy.filters.http.lua",
                "envoy.filters.http.router",
            ])
            let stage = try #require(hcm.httpFilters.first { $0.name == "apk.backend_jwt" })
            #expect(stage.disabled)
            let lua = try Envoy_Extensions_Filters_Http_Lua_V3_Lua(unpackingAny: stage.typedConfig)
            #expect(lua.sourceCodes["apk-backend-jwt"]?.inlineString.contains("/backend-jwt") == true)
        }
        var extAuthz = AdapterFixtures.settings
        extAuthz.auth.backendJWTStage = .extAuthz
        for listener in try XDSTranslator.listeners(settings: extAuthz) {
            let hcm = try Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager(
                unpackingAny: try #require(listener.filterChains.first?.filters.first?.typedConfig))
            #expect(hcm.httpFilters.map(\.name) == [
                "envoy.filters.http.cors", "envoy.filters.http.jwt_authn", "envoy.filters.http.rbac", "apk.subscription",
                "envoy.filters.http.ext_authz", "envoy.filters.http.header_mutation", "envoy.filters.http.ratelimit",
                "envoy.filters.http.lua", "envoy.filters.http.router",
            ])
            let filter = try #require(hcm.httpFilters.first { $0.name == "envoy.filters.http.ext_authz" })
            #expect(filter.disabled)
            let config = try Envoy_Extensions_Filters_Http_ExtAuthz_V3_ExtAuthz(unpackingAny: filter.typedConfig)
            #expect(!config.failureModeAllow && config.statusOnError.code == .serviceUnavailable)
            #expect(config.metadataContextNamespaces == ["envoy.filters.http.jwt_authn"])
            #expect(config.allowedHeaders.patterns.map(\.exact) == ["x-apk-none"])
            #expect(hcm.localReplyConfig.mappers.first?.bodyFormatOverride.jsonFormat.fields["code"]?.stringValue == "102517")
        }
        let system = try XDSTranslator.systemResources(settings: AdapterFixtures.settings)
        let route = try #require(system.versionedRoutes.values.flatMap(\.self).first { $0.name == "apk-system/enforcer-jwks" })
        #expect(route.match.path == "/.wellknown/jwks" && route.route.prefixRewrite == "/jwks")
        #expect(route.route.cluster == "apk-system/enforcer-jwks")
        #expect(system.clusters.contains { $0.name == "apk-system/enforcer-jwks" })
    }
}
