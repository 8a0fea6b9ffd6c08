import APKAuthPlan
import EnvoyProtos
import Foundation
import SwiftProtobuf

// Per API: the routes of every operation (versioned and default-version) and the API's clusters.
extension XDSTranslator {
    /// Routes and clusters of one API.
    package static func resources(
        for api: APIIR, settings: XDSSettings, encoder: ProtoEncoder = .deterministic
    ) throws -> APIResources {
        var result = APIResources(id: api.id, basePath: api.basePath)
        let defaultBase = defaultVersionBasePath(api)
        let cors = effectiveCORS(api, settings: settings)
        for environment in api.environments {
            let preflights = cors == nil ? [] : preflightSources(environment.routes).map(\.name)
            for ir in environment.routes {
                if let segment = ScopedRouting.segment(basePath: api.basePath, pathSegment: ir.pathSegment) {
                    var versioned = [try route(
                        api: api, environment: environment, route: ir, basePath: api.basePath, suffix: "",
                        settings: settings, encoder: encoder)]
                    if let cors, preflights.contains(ir.name), let preflight = try preflightRoute(
                        api: api, route: ir, basePath: api.basePath, suffix: "", plan: cors, settings: settings,
                        encoder: encoder)
                    {
                        versioned.append(preflight)
                    }
                    for host in environment.hostnames {
                        result.versionedRoutes[RouteKey(segment: segment, host: host), default: []] += versioned
                    }
                } else {
                    result.unscopedOperations.append("\(environment.kind.rawValue) \(ir.operation)")
                }
                guard let base = defaultBase else { continue }
                if let segment = ScopedRouting.segment(basePath: base, pathSegment: ir.pathSegment) {
                    var defaults = [try route(
                        api: api, environment: environment, route: ir, basePath: base, suffix: "/default",
                        settings: settings, encoder: encoder)]
                    if let cors, preflights.contains(ir.name), let preflight = try preflightRoute(
                        api: api, route: ir, basePath: base, suffix: "/default", plan: cors, settings: settings,
                        encoder: encoder)
                    {
                        defaults.append(preflight)
                    }
                    for host in environment.hostnames {
                        result.defaultVersionRoutes[RouteKey(segment: segment, host: host), default: []] += defaults
                    }
                } else {
                    result.unscopedOperations.append("\(environment.kind.rawValue) \(ir.operation) (default version)")
                }
            }
        }
        result.clusters = try api.backends.map { try cluster(for: $0, settings: settings, encoder: encoder) }
        let limits = [api.rateLimit] + api.environments.flatMap { $0.routes.map(\.rateLimit) }
        result.localShares = Set(limits.compactMap { $0.flatMap(settings.localShare(for:)) })
        if case .native = settings.auth.enforcement, !api.auth.disabled,
            api.environments.contains(where: { $0.routes.contains { $0.auth.secured } })
        {
            result.requirements = [JWTRequirement(credentials: api.auth.credentials, issuers: api.tokenIssuers ?? [])]
            // Each API with the issuer defines the same cluster (the snapshot keeps one per name).
            result.clusters += try issuerClusters(api.tokenIssuers ?? [], settings: settings, encoder: encoder)
        }
        return result
    }

    /// The base path without its trailing `/<version>`, for default-version APIs; nil otherwise.
    static func defaultVersionBasePath(_ api: APIIR) -> String? {
        guard api.isDefaultVersion, api.basePath.hasSuffix("/" + api.version) else { return nil }
        let base = String(api.basePath.dropLast(api.version.count + 1))
        return base
    }

    /// The full path regex of a route: anchored, base path quoted, optional trailing slash.
    package static func pathRegex(basePath: String, operationRegex: String) -> String {
        "^" + RegexQuoting.quote(basePath) + operationRegex + "([/]{0,1})"
    }

    static func route(
        api: APIIR, environment: EnvironmentIR, route ir: RouteIR, basePath: String, suffix: String,
        settings: XDSSettings, encoder: ProtoEncoder
    ) throws -> Envoy_Config_Route_V3_Route {
        var route = Envoy_Config_Route_V3_Route()
        route.name = "\(api.id)/\(ir.name)\(suffix)"
        let regex = pathRegex(basePath: basePath, operationRegex: ir.pathRegex)
        route.match.safeRegex.regex = regex
        if let method = ir.method {
            var header = Envoy_Config_Route_V3_HeaderMatcher()
            header.name = ":method"
            header.stringMatch.exact = method
            route.match.headers = [header]
        }
        var localShares: [LocalShareRule] = []
        if let forward = ir.forward {
            var action = Envoy_Config_Route_V3_RouteAction()
            action.cluster = forward.cluster
            if let rewrite = forward.rewrite {
                action.regexRewrite.pattern.regex = regex
                action.regexRewrite.substitution = rewrite
            }
            action.autoHostRewrite = Google_Protobuf_BoolValue(true)
            action.timeout = Google_Protobuf_Duration(seconds: Int64(forward.timeoutSeconds))
            action.idleTimeout = Google_Protobuf_Duration(seconds: Int64(forward.idleTimeoutSeconds))
            if let retry = forward.retry {
                var policy = Envoy_Config_Route_V3_RetryPolicy()
                policy.retryOn = "retriable-status-codes"
                policy.retriableStatusCodes = retry.statusCodes.map { UInt32(clamping: $0) }
                policy.numRetries = Google_Protobuf_UInt32Value(UInt32(clamping: retry.attempts))
                policy.retryBackOff.baseInterval = Google_Protobuf_Duration(
                    seconds: Int64(retry.baseIntervalMillis / 1000), nanos: Int32(retry.baseIntervalMillis % 1000) * 1_000_000)
                action.retryPolicy = policy
            }
            if let mirror = ir.mirrorCluster {
                var policy = Envoy_Config_Route_V3_RouteAction.RequestMirrorPolicy()
                policy.cluster = mirror
                action.requestMirrorPolicies = [policy]
            }
            let limits = [api.rateLimit, ir.rateLimit].compactMap(\.self)
            if !limits.isEmpty {
                guard settings.rateLimiter != nil else {
                    throw UnservableAPI("it has a rate limit, and the adapter setting RATELIMITER_URL is none")
                }
                localShares = limits.compactMap(settings.localShare(for:))
                action.rateLimits = rateLimitActions(limits, localShares: localShares)
            }
            route.route = action
        } else if let redirect = ir.redirect {
            var action = Envoy_Config_Route_V3_RedirectAction()
            if let scheme = redirect.scheme { action.schemeRedirect = scheme }
            if let host = redirect.hostname { action.hostRedirect = host }
            if let port = redirect.port { action.portRedirect = UInt32(clamping: port) }
            if let path = redirect.path { action.pathRedirect = path }
            action.responseCode = switch redirect.statusCode {
            case 301: .movedPermanently
            case 303: .seeOther
            case 307: .temporaryRedirect
            case 308: .permanentRedirect
            default: .found
            }
            route.redirect = action
        }
        if let headers = ir.requestHeaders {
            route.requestHeadersToAdd = headerOptions(headers)
            route.requestHeadersToRemove = headers.remove
        }
        if let headers = ir.responseHeaders {
            route.responseHeadersToAdd = headerOptions(headers)
            route.responseHeadersToRemove = headers.remove
        }
        route.metadata.filterMetadata[metadataNamespace] = Google_Protobuf_Struct(fields: [
            "api_id": Google_Protobuf_Value(stringValue: api.id),
            "api_name": Google_Protobuf_Value(stringValue: api.name),
            "api_version": Google_Protobuf_Value(stringValue: api.version),
            "organization": Google_Protobuf_Value(stringValue: api.organization),
            "environment": Google_Protobuf_Value(stringValue: environment.kind.rawValue),
            "operation": Google_Protobuf_Value(stringValue: ir.operation),
        ])
        for share in localShares {
            // The local stage finds the quota here; its tag is for the ratelimit filter only.
            route.metadata.filterMetadata[metadataNamespace]?.fields[share.level.metadataField] =
                Google_Protobuf_Value(stringValue: share.descriptor)
            route.requestHeadersToRemove.append(share.level.tagHeader)
        }
        let keyType: KeyType = environment.kind == .production ? .production : .sandbox
        try applyAuth(api.auth, ir.auth, keyType: keyType, to: &route, settings: settings, encoder: encoder)
        if api.auth.subscriptionValidation, !api.auth.disabled, ir.auth.secured {
            // Who may call it: the gateway's subscription stage, the same in both enforcement modes.
            try applySubscriptions(api.subscribers?[keyType] ?? .none, to: &route, encoder: encoder)
        }
        if !api.auth.disabled, ir.auth.secured {
            route.requestHeadersToRemove += SubscriptionHeaders.all  // set by the gateway, never for the backend
        }
        if let cors = effectiveCORS(api, settings: settings) { try applyCORS(cors, to: &route, encoder: encoder) }
        return route
    }

    static func headerOptions(_ changes: RouteIR.HeaderChanges) -> [Envoy_Config_Core_V3_HeaderValueOption] {
        let set = changes.set.map { header -> Envoy_Config_Core_V3_HeaderValueOption in
            var option = Envoy_Config_Core_V3_HeaderValueOption()
            option.header.key = header.name
            option.header.value = header.value
            option.appendAction = .overwriteIfExistsOrAdd
            return option
        }
        let add = changes.add.map { header -> Envoy_Config_Core_V3_HeaderValueOption in
            var option = Envoy_Config_Core_V3_HeaderValueOption()
            option.header.key = header.name
            option.header.value = header.value
            option.appendAction = .appendIfExistsOrAdd
            return option
        }
        return set + add
    }
}
