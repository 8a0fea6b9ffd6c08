import APKAuthPlan
import EnvoyProtos
import SwiftProtobuf

// CORS (contract §4.7, §7.8) in Envoy's `cors` filter, the same in both enforcement modes: the filter runs first on
// every listener (so that denials carry CORS headers a browser can read); each route of an API with CORS on carries
// its policy; and every resource gets a preflight route for `OPTIONS`, never authenticated and never forwarded: the
// `cors` filter answers real preflights itself (also for origins it does not allow: `forward_not_matching_preflights`
// off), and any other `OPTIONS` gets an empty 200 from a one-line Lua responder (the reference's enforcer answers
// every `OPTIONS` so), to which the filter adds the allowed origin. The preflight route must have a route action
// (the `cors` filter skips direct responses), so it names the operation's cluster, which it never reaches.
extension XDSTranslator {
    static let corsFilterName = "envoy.filters.http.cors"
    static let luaFilterName = "envoy.filters.http.lua"
    /// The listeners' Lua source that answers a preflight route's requests (enabled per route by name).
    static let preflightResponder = "apk-preflight"
    static let preflightResponderCode = #"function envoy_on_request(handle) handle:respond({[":status"] = "200"}, "") end"#

    /// The Lua filter holding ``preflightResponder``; disabled unless a route names it.
    static func responderFilter(encoder: ProtoEncoder) throws -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter {
        try luaFilter(name: luaFilterName, source: preflightResponder, code: preflightResponderCode, encoder: encoder)
    }

    /// A Lua filter named `name` holding one named source, disabled unless a route enables it (`LuaPerRoute`).
    static func luaFilter(
        name: String, source: String, code: String, encoder: ProtoEncoder
    ) throws -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter {
        var lua = Envoy_Extensions_Filters_Http_Lua_V3_Lua()
        var data = Envoy_Config_Core_V3_DataSource()
        data.inlineString = code
        lua.sourceCodes[source] = data
        var filter = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        filter.name = name
        filter.typedConfig = try AnyPacking.pack(lua, encoder: encoder)
        filter.disabled = true
        return filter
    }

    /// The listeners' `cors` filter (policies are per route).
    static func corsFilter(encoder: ProtoEncoder) throws -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter {
        var filter = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        filter.name = corsFilterName
        filter.typedConfig = try AnyPacking.pack(Envoy_Extensions_Filters_Http_Cors_V3_Cors(), encoder: encoder)
        return filter
    }

    /// The CORS an API's routes get: its own policy, else the gateway's default; nil when off.
    static func effectiveCORS(_ api: APIIR, settings: XDSSettings) -> CORSPlan? {
        guard let plan = api.auth.cors ?? settings.corsDefault, plan.enabled else { return nil }
        return plan
    }

    static func corsPolicy(_ plan: CORSPlan) -> Envoy_Extensions_Filters_Http_Cors_V3_CorsPolicy {
        var policy = Envoy_Extensions_Filters_Http_Cors_V3_CorsPolicy()
        policy.allowOriginStringMatch = plan.allowOrigins.map { origin in
            var matcher = Envoy_Type_Matcher_V3_StringMatcher()
            if origin == "*" { matcher.safeRegex.regex = ".*" } else { matcher.exact = origin }
            return matcher
        }
        policy.allowMethods = plan.allowMethods.joined(separator: ", ")
        policy.allowHeaders = plan.allowHeaders.joined(separator: ", ")
        policy.exposeHeaders = plan.exposeHeaders.joined(separator: ", ")
        if let maxAge = plan.maxAgeSeconds { policy.maxAge = String(maxAge) }
        policy.allowCredentials = Google_Protobuf_BoolValue(plan.allowCredentials)
        // A preflight from an origin that is not allowed is answered (without CORS headers), never forwarded.
        policy.forwardNotMatchingPreflights = Google_Protobuf_BoolValue(false)
        return policy
    }

    /// Adds `plan`'s policy to `route`.
    static func applyCORS(_ plan: CORSPlan, to route: inout Envoy_Config_Route_V3_Route, encoder: ProtoEncoder) throws {
        route.typedPerFilterConfig[corsFilterName] = try AnyPacking.pack(corsPolicy(plan), encoder: encoder)
    }

    /// The preflight route of `ir`'s resource under `basePath`: `OPTIONS` answered 200 with an empty body in the
    /// gateway (the `cors` filter adds the headers when the origin is allowed), not authenticated in either mode.
    static func preflightRoute(
        api: APIIR, route ir: RouteIR, basePath: String, suffix: String, plan: CORSPlan, settings: XDSSettings,
        encoder: ProtoEncoder
    ) throws -> Envoy_Config_Route_V3_Route? {
        guard let cluster = ir.forward?.cluster else { return nil }
        var route = Envoy_Config_Route_V3_Route()
        route.name = "\(api.id)/\(ir.name)\(suffix)/preflight"
        route.match.safeRegex.regex = pathRegex(basePath: basePath, operationRegex: ir.pathRegex)
        var method = Envoy_Config_Route_V3_HeaderMatcher()
        method.name = ":method"
        method.stringMatch.exact = "OPTIONS"
        route.match.headers = [method]
        var action = Envoy_Config_Route_V3_RouteAction()
        action.cluster = cluster  // never reached: the cors filter or the responder answers first
        route.route = action
        var responder = Envoy_Extensions_Filters_Http_Lua_V3_LuaPerRoute()
        responder.name = preflightResponder
        route.typedPerFilterConfig[luaFilterName] = try AnyPacking.pack(responder, encoder: encoder)
        try applyCORS(plan, to: &route, encoder: encoder)
        if case .native = settings.auth.enforcement {
            var perRoute = Envoy_Extensions_Filters_Http_JwtAuthn_V3_PerRouteConfig()
            perRoute.disabled = true
            route.typedPerFilterConfig[jwtFilterName] = try AnyPacking.pack(perRoute, encoder: encoder)
        }
        return route
    }

    /// The routes of `routes` that get a preflight route: one per resource path, unless the API routes `OPTIONS` for
    /// that path itself (an `OPTIONS` or method-less operation).
    static func preflightSources(_ routes: [RouteIR]) -> [RouteIR] {
        let ownOptions = Set(routes.filter { $0.method == nil || $0.method == "OPTIONS" }.map(\.pathRegex))
        var seen = Set<String>()
        return routes.filter { $0.forward != nil && !ownOptions.contains($0.pathRegex) && seen.insert($0.pathRegex).inserted }
    }
}
