import APKAuthPlan
import EnvoyProtos
import SwiftProtobuf

// `enforcer` mode (`AUTH_ENFORCEMENT=enforcer`): the gateway's security decided by `apk-enforcer` over ext_authz
// with the same evaluator the native filters are held to (docs/enforcer-design.md). The ext_authz filter is
// disabled by default; each secured operation's route enables it and carries its complete ``RoutePlan`` as a
// context extension, so the enforcer judges exactly the route Envoy matched, from the same snapshot. Fail closed:
// no `failure_mode_allow`; an enforcer that does not answer within the timeout is a 503 (code 102517).
extension XDSTranslator {
    static let extAuthzFilterName = "envoy.filters.http.ext_authz"
    /// The enforcer's gRPC cluster (HTTP/2).
    static let enforcerCluster = "apk-system/enforcer"

    /// The listeners' security filter in `enforcer` mode.
    static func enforcerFilter(
        _ link: XDSSettings.EnforcerLink, settings: XDSSettings, encoder: ProtoEncoder
    ) throws -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter {
        // Only what a decision reads goes to the enforcer: the credential headers (Envoy adds the pseudo-headers).
        try extAuthzFilter(link, headers: enforcerHeaders(settings), encoder: encoder)
    }

    /// The headers `enforcer` mode sends the enforcer: the configured OAuth2 headers, `internal-key` and the default
    /// API-key header (`apikey`); query API keys travel in the path.
    static func enforcerHeaders(_ settings: XDSSettings) -> [String] {
        settings.auth.oauth2Headers + [AuthPlanBuilder.internalKeyHeader, AuthPlanBuilder.defaultAPIKeyHeader]
    }

    /// `native` mode's ext_authz stage (after `rbac`), enabled only on routes whose API has a backend JWT: the
    /// enforcer receives `jwt_authn`'s verified payloads (metadata context) and no header at all.
    static func backendJWTFilter(
        _ link: XDSSettings.EnforcerLink, settings: XDSSettings, encoder: ProtoEncoder
    ) throws -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter {
        // An empty list would send every header: name one that never arrives (client `x-apk-*` headers are dropped
        // before any filter runs).
        try extAuthzFilter(link, headers: ["x-apk-none"], metadata: [jwtFilterName], encoder: encoder)
    }

    /// Fail closed: no `failure_mode_allow`; `status_on_error` 503 (mapped to code 102517); disabled unless a route
    /// enables it.
    private static func extAuthzFilter(
        _ link: XDSSettings.EnforcerLink, headers: [String], metadata: [String] = [], encoder: ProtoEncoder
    ) throws -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter {
        var config = Envoy_Extensions_Filters_Http_ExtAuthz_V3_ExtAuthz()
        config.grpcService.envoyGrpc.clusterName = enforcerCluster
        config.grpcService.timeout = Google_Protobuf_Duration(
            seconds: Int64(link.timeoutMilliseconds / 1000), nanos: Int32(link.timeoutMilliseconds % 1000) * 1_000_000)
        config.transportApiVersion = .v3
        config.failureModeAllow = false
        config.statusOnError.code = .serviceUnavailable
        // Repeated headers arrive as separate entries (a credential sent twice is ambiguous, as natively).
        config.encodeRawHeaders = true
        config.allowedHeaders.patterns = headers.map { name in
            var matcher = Envoy_Type_Matcher_V3_StringMatcher()
            matcher.exact = name
            matcher.ignoreCase = true
            return matcher
        }
        config.metadataContextNamespaces = metadata
        var filter = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        filter.name = extAuthzFilterName
        filter.typedConfig = try AnyPacking.pack(config, encoder: encoder)
        filter.disabled = true  // enabled by the per-route configuration of the routes that need it only
        return filter
    }

    /// Enables the enforcer on a secured operation's route with its plan; unsecured operations make no call (the
    /// evaluator would allow them, and client `x-apk-*` headers are already dropped by the early mutation).
    static func applyEnforcer(
        _ plan: APIAuthPlan, _ operation: OperationAuthPlan, keyType: KeyType, to route: inout Envoy_Config_Route_V3_Route,
        settings: XDSSettings, encoder: ProtoEncoder
    ) throws {
        guard !plan.disabled, operation.secured else { return }
        let sent = Set(enforcerHeaders(settings))
        if let missing = plan.credentials.compactMap(\.header).first(where: { !sent.contains($0) }) {
            throw UnservableAPI(
                "enforcer mode sends the enforcer only the headers of the adapter setting AUTH_OAUTH2_HEADERS ("
                    + settings.auth.oauth2Headers.joined(separator: ", ") + "), internal-key and apikey, not \(missing)")
        }
        var perRoute = Envoy_Extensions_Filters_Http_ExtAuthz_V3_ExtAuthzPerRoute()
        perRoute.checkSettings.contextExtensions[RoutePlan.contextKey] =
            try RoutePlan(api: plan, operation: operation, keyType: keyType).encoded()
        route.typedPerFilterConfig[extAuthzFilterName] = try AnyPacking.pack(perRoute, encoder: encoder)
    }

    /// A cluster of one of the gateway's own gRPC services (enforcer, ratelimiter): plaintext gRPC, so HTTP/2.
    static func grpcCluster(
        name: String, upstream: XDSSettings.Upstream, settings: XDSSettings, encoder: ProtoEncoder
    ) throws -> Envoy_Config_Cluster_V3_Cluster {
        var cluster = upstreamCluster(name: name, host: upstream.host, port: upstream.port, settings: settings)
        var options = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions()
        options.explicitHTTPConfig.http2ProtocolOptions = Envoy_Config_Core_V3_Http2ProtocolOptions()
        cluster.typedExtensionProtocolOptions["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"] =
            try AnyPacking.pack(options, encoder: encoder)
        return cluster
    }
}
