package import EnvoyProtos
import Foundation
package import SwiftProtobuf

/// Where a route lives in Envoy: its scope (the first segment of the paths it matches, see ``ScopedRouting``) and
/// its virtual host.
package struct RouteKey: Sendable, Hashable, Comparable {
    package var segment: String
    package var host: String

    package init(segment: String, host: String) {
        self.segment = segment
        self.host = host
    }

    package static func < (a: RouteKey, b: RouteKey) -> Bool {
        a.segment != b.segment ? a.segment < b.segment : a.host < b.host
    }
}

/// The Envoy resources of one API: its routes per scope and virtual host (versioned and default-version ones apart,
/// because default-version routes go after every versioned route) and its clusters. Built once per API change and
/// cached.
package struct APIResources: Sendable, Equatable {
    package var id: String
    package var basePath: String
    package var versionedRoutes: [RouteKey: [Envoy_Config_Route_V3_Route]]
    package var defaultVersionRoutes: [RouteKey: [Envoy_Config_Route_V3_Route]]
    package var clusters: [Envoy_Config_Cluster_V3_Cluster]
    /// Operations left out because no scope can hold them (default-version routes at the root path whose first
    /// segment is not literal), as `<environment> <operation>`.
    package var unscopedOperations: [String]

    package init(id: String, basePath: String, versionedRoutes: [RouteKey: [Envoy_Config_Route_V3_Route]] = [:],
                 defaultVersionRoutes: [RouteKey: [Envoy_Config_Route_V3_Route]] = [:],
                 clusters: [Envoy_Config_Cluster_V3_Cluster] = [], unscopedOperations: [String] = []) {
        self.id = id
        self.basePath = basePath
        self.versionedRoutes = versionedRoutes
        self.defaultVersionRoutes = defaultVersionRoutes
        self.clusters = clusters
        self.unscopedOperations = unscopedOperations
    }
}

/// Scoped routing (Envoy SRDS): the routes are split by the first segment of the request path into one route
/// configuration per segment, so that a deploy makes Envoy rebuild only the route configuration of its own segment
/// instead of every route of the gateway, and a request is matched only against the routes of its segment.
///
/// Envoy computes the scope key from a header: an early header mutation (runs before route selection) copies the
/// path without its query string into ``pathHeader``, and the key is that header's element 1 split at `/`
/// (`/pets/1?x=y` → `pets`, `/` → ``). A request whose segment has no scope gets the 404 local reply. Each route
/// configuration removes the header again, so upstreams never see it.
package enum ScopedRouting {
    /// The header the scope key is read from (set by Envoy itself; a client's value is overwritten).
    package static let pathHeader = "x-apk-scope-path"

    /// The scope of a route: the first segment of its base path, or, when the base path is the root (a default-
    /// version API whose base path is only its version), the first segment of the operation's path regex if that
    /// segment is literal; nil when it is not (`/{id}`, `/*`): no scope can hold such a route.
    package static func segment(basePath: String, operationRegex: String) -> String? {
        var base = Substring(basePath)
        if base.hasPrefix("/") { base = base.dropFirst() }
        if !base.isEmpty { return String(base.prefix { $0 != "/" }) }
        var regex = Substring(operationRegex)
        guard regex.hasPrefix("/") else { return regex.isEmpty ? "" : nil }
        regex = regex.dropFirst()
        var segment = ""
        while let character = regex.first {
            if character == "/" { return segment }
            if character == "\\", regex.dropFirst().first == "." {
                segment.append(".")
                regex = regex.dropFirst(2)
                continue
            }
            guard character.isASCII, character.isLetter || character.isNumber || "-_~".contains(character) else {
                // What may follow a literal segment: the end of a PathPrefix match, or an optional trailing slash.
                return regex == "((?:/.*)*)" || regex == "([/]{0,1})" ? segment : nil
            }
            segment.append(character)
            regex = regex.dropFirst()
        }
        return segment
    }
}

/// Stage 2: IR → Envoy resources. Pure; golden-tested (rendered as JSON).
///
/// Shape (contract §7.9, §9): two listeners (`HTTPS_9095_listener` with the gateway certificate, `HTTP_9080_listener`)
/// share scoped routes (SRDS over ADS; one scope per first path segment with its route configuration inline,
/// ``ScopedRouting``);
/// in each, one virtual host per hostname (production and sandbox hostnames are
/// different, so they are different virtual hosts); one route per operation — anchored regex
/// `^<quoted base path><operation regex>([/]{0,1})` on the path (query excluded) plus an exact `:method` header
/// match, regex rewrite to the Backend's base path, `Host` rewritten to the upstream; routes of longer base paths
/// first, default-version duplicates after all versioned routes; one STRICT_DNS cluster per Backend.
package enum XDSTranslator {
    /// The metadata namespace on every API route (`filter_metadata["apk"]`), read by the enforcer and access logs.
    package static let metadataNamespace = "apk"

    // MARK: per API

    /// Routes and clusters of one API.
    package static func resources(for api: APIIR, settings: XDSSettings) -> APIResources {
        var result = APIResources(id: api.id, basePath: api.basePath)
        let defaultBase = defaultVersionBasePath(api)
        for environment in api.environments {
            for ir in environment.routes {
                if let segment = ScopedRouting.segment(basePath: api.basePath, operationRegex: ir.pathRegex) {
                    let versioned = route(api: api, environment: environment, route: ir, basePath: api.basePath, suffix: "")
                    for host in environment.hostnames {
                        result.versionedRoutes[RouteKey(segment: segment, host: host), default: []].append(versioned)
                    }
                } else {
                    result.unscopedOperations.append("\(environment.kind.rawValue) \(ir.operation)")
                }
                guard let base = defaultBase else { continue }
                if let segment = ScopedRouting.segment(basePath: base, operationRegex: ir.pathRegex) {
                    let defaults = route(api: api, environment: environment, route: ir, basePath: base, suffix: "/default")
                    for host in environment.hostnames {
                        result.defaultVersionRoutes[RouteKey(segment: segment, host: host), default: []].append(defaults)
                    }
                } else {
                    result.unscopedOperations.append("\(environment.kind.rawValue) \(ir.operation) (default version)")
                }
            }
        }
        result.clusters = api.backends.map { cluster(for: $0, settings: settings) }
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
        api: APIIR, environment: EnvironmentIR, route ir: RouteIR, basePath: String, suffix: String
    ) -> Envoy_Config_Route_V3_Route {
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

    /// One cluster per Backend: STRICT_DNS (Envoy's default DNS refresh), IPv4, round robin, circuit breakers, optional TCP health check and TLS.
    package static func cluster(for backend: BackendIR, settings: XDSSettings) -> Envoy_Config_Cluster_V3_Cluster {
        var cluster = upstreamCluster(
            name: backend.cluster, host: backend.host, port: backend.port, settings: settings)
        var thresholds = Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds()
        thresholds.maxConnections = Google_Protobuf_UInt32Value(UInt32(clamping: backend.circuitBreaker.maxConnections))
        thresholds.maxPendingRequests = Google_Protobuf_UInt32Value(
            UInt32(clamping: backend.circuitBreaker.maxPendingRequests))
        thresholds.maxRequests = Google_Protobuf_UInt32Value(UInt32(clamping: backend.circuitBreaker.maxRequests))
        thresholds.maxRetries = Google_Protobuf_UInt32Value(UInt32(clamping: backend.circuitBreaker.maxRetries))
        cluster.circuitBreakers.thresholds = [thresholds]
        if let check = backend.healthCheck {
            var health = Envoy_Config_Core_V3_HealthCheck()
            health.timeout = Google_Protobuf_Duration(seconds: Int64(check.timeoutSeconds))
            health.interval = Google_Protobuf_Duration(seconds: Int64(check.intervalSeconds))
            health.unhealthyThreshold = Google_Protobuf_UInt32Value(UInt32(clamping: check.unhealthyThreshold))
            health.healthyThreshold = Google_Protobuf_UInt32Value(UInt32(clamping: check.healthyThreshold))
            health.tcpHealthCheck = Envoy_Config_Core_V3_HealthCheck.TcpHealthCheck()
            cluster.healthChecks = [health]
        }
        if let tls = backend.tls {
            var context = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext()
            context.sni = tls.sni
            if let ca = tls.trustedCA {
                context.commonTlsContext.validationContext.trustedCa.inlineString = ca
            } else {
                context.commonTlsContext.validationContext.trustedCa.filename = systemTrustStore
            }
            context.commonTlsContext.validationContext.matchTypedSubjectAltNames = tls.allowedSANs.map { san in
                var matcher = Envoy_Extensions_TransportSockets_Tls_V3_SubjectAltNameMatcher()
                matcher.sanType = .dns
                matcher.matcher.exact = san
                return matcher
            }
            cluster.transportSocket = transportSocket(upstream: context)
        }
        return cluster
    }

    /// The CA bundle Envoy trusts for TLS backends without their own certificate (Debian's system bundle).
    package static let systemTrustStore = "/etc/ssl/certs/ca-certificates.crt"

    static func upstreamCluster(
        name: String, host: String, port: Int, settings: XDSSettings
    ) -> Envoy_Config_Cluster_V3_Cluster {
        var cluster = Envoy_Config_Cluster_V3_Cluster()
        cluster.name = name
        cluster.type = .strictDns
        cluster.connectTimeout = Google_Protobuf_Duration(seconds: Int64(settings.connectTimeoutSeconds))
        cluster.dnsLookupFamily = .v4Only
        cluster.lbPolicy = .roundRobin
        var endpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
        endpoint.endpoint.address.socketAddress.address = host
        endpoint.endpoint.address.socketAddress.portValue = UInt32(clamping: port)
        var locality = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
        locality.lbEndpoints = [endpoint]
        cluster.loadAssignment.clusterName = name
        cluster.loadAssignment.endpoints = [locality]
        return cluster
    }

    static func transportSocket(upstream context: Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext) -> Envoy_Config_Core_V3_TransportSocket {
        var socket = Envoy_Config_Core_V3_TransportSocket()
        socket.name = "envoy.transport_sockets.tls"
        socket.typedConfig = AnyPacking.packUnchecked(context)
        return socket
    }

    // MARK: gateway-wide

    /// System clusters (deployer, config service) and their routes per system hostname (contract §10, issue 4).
    package static func systemResources(settings: XDSSettings) -> APIResources {
        var result = APIResources(id: "apk-system", basePath: "/")
        var routes: [RouteKey: [Envoy_Config_Route_V3_Route]] = [:]
        func key(_ host: String, _ path: String) -> RouteKey {
            RouteKey(segment: ScopedRouting.segment(basePath: path, operationRegex: "") ?? "", host: host)
        }
        func prefixRoute(_ name: String, _ prefix: String, cluster: String) -> Envoy_Config_Route_V3_Route {
            var route = Envoy_Config_Route_V3_Route()
            route.name = "apk-system/\(name)"
            route.match.prefix = prefix
            var action = Envoy_Config_Route_V3_RouteAction()
            action.cluster = cluster
            action.timeout = Google_Protobuf_Duration(seconds: 60)
            route.route = action
            return route
        }
        if let deployer = settings.systemDeployer {
            let name = "apk-system/deployer"
            result.clusters.append(systemCluster(name: name, upstream: deployer, settings: settings))
            routes[key("idp.am.wso2.com", "/oauth2/"), default: []].append(prefixRoute("oauth2", "/oauth2/", cluster: name))
            routes[key("api.am.wso2.com", "/api/"), default: []] += [
                prefixRoute("deployer", "/api/deployer/", cluster: name),
                prefixRoute("runtime", "/api/runtime/", cluster: name),
            ]
        }
        if let config = settings.systemConfig {
            let name = "apk-system/config"
            result.clusters.append(systemCluster(name: name, upstream: config, settings: settings))
            routes[key("api.am.wso2.com", "/api/"), default: []].append(prefixRoute("configurator", "/api/configurator/", cluster: name))
        }
        var health = Envoy_Config_Route_V3_Route()
        health.name = "apk-system/health"
        health.match.path = "/health"
        var header = Envoy_Config_Route_V3_HeaderMatcher()
        header.name = ":method"
        header.stringMatch.exact = "GET"
        health.match.headers = [header]
        health.directResponse.status = 200
        health.directResponse.body.inlineString = #"{"status": "healthy"}"#
        health.responseHeadersToAdd = [headerOption("content-type", "application/json")]
        routes[key("localhost", "/health"), default: []].append(health)
        result.versionedRoutes = routes
        return result
    }

    static func systemCluster(name: String, upstream: XDSSettings.Upstream, settings: XDSSettings) -> Envoy_Config_Cluster_V3_Cluster {
        var cluster = upstreamCluster(name: name, host: upstream.host, port: upstream.port, settings: settings)
        if upstream.tls {
            var context = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext()
            context.sni = upstream.host
            context.commonTlsContext.validationContext.trustedCa.filename = systemTrustStore
            cluster.transportSocket = transportSocket(upstream: context)
        }
        return cluster
    }

    static func headerOption(_ name: String, _ value: String) -> Envoy_Config_Core_V3_HeaderValueOption {
        var option = Envoy_Config_Core_V3_HeaderValueOption()
        option.header.key = name
        option.header.value = value
        option.appendAction = .overwriteIfExistsOrAdd
        return option
    }

    /// The route configurations, one per scope (first path segment), each with a virtual host per hostname that has
    /// routes in the scope. Within a virtual host: system routes, then the versioned routes of each API (longest
    /// base path first), then the default-version routes in the same order. Sorted by name.
    package static func routeConfigurations(
        system: APIResources, apis: [APIResources], settings: XDSSettings
    ) -> [Envoy_Config_Route_V3_RouteConfiguration] {
        routeConfigurationsBySegment(system: system, apis: apis, settings: settings).map(\.configuration)
    }

    /// ``routeConfigurations(system:apis:settings:)`` with the segment of each.
    static func routeConfigurationsBySegment(
        system: APIResources, apis: [APIResources], settings: XDSSettings
    ) -> [(segment: String, configuration: Envoy_Config_Route_V3_RouteConfiguration)] {
        let ordered = apis.sorted { precedes(($0.basePath, $0.id), ($1.basePath, $1.id)) }
        var scopes: [String: [String: [Envoy_Config_Route_V3_Route]]] = [:]
        for (key, routes) in system.versionedRoutes { scopes[key.segment, default: [:]][key.host, default: []] += routes }
        for api in ordered {
            for key in api.versionedRoutes.keys.sorted() {
                scopes[key.segment, default: [:]][key.host, default: []] += api.versionedRoutes[key] ?? []
            }
        }
        for api in ordered {
            for key in api.defaultVersionRoutes.keys.sorted() {
                scopes[key.segment, default: [:]][key.host, default: []] += api.defaultVersionRoutes[key] ?? []
            }
        }
        return scopes.keys.sorted().map { segment in
            let hosts = scopes[segment] ?? [:]
            var configuration = routeConfigurationShell(segment: segment, settings: settings)
            configuration.virtualHosts = hosts.keys.sorted().map { host in
                var vhost = virtualHost(host, hasRoutes: { hosts[$0] != nil }, settings: settings)
                vhost.routes = hosts[host] ?? []
                return vhost
            }
            return (segment, configuration)
        }
    }

    /// API order within a virtual host (§7.9): longer base paths first (a longer path sorts after its prefix), then
    /// by API id so the order is total.
    package static func precedes(_ a: (basePath: String, id: String), _ b: (basePath: String, id: String)) -> Bool {
        a.basePath != b.basePath ? a.basePath > b.basePath : a.id < b.id
    }

    /// The name of the route configuration (and of the scope) of a first path segment.
    package static func routeConfigurationName(segment: String, settings: XDSSettings) -> String {
        settings.routeConfigName + "/" + segment
    }

    /// A scope's route configuration without virtual hosts.
    package static func routeConfigurationShell(
        segment: String, settings: XDSSettings
    ) -> Envoy_Config_Route_V3_RouteConfiguration {
        var configuration = Envoy_Config_Route_V3_RouteConfiguration()
        configuration.name = routeConfigurationName(segment: segment, settings: settings)
        configuration.requestHeadersToRemove = ["x-wso2-cluster-header", ScopedRouting.pathHeader]
        configuration.ignorePortInHostMatching = true
        return configuration
    }

    /// The scope of a first path segment without its route configuration: requests whose segment is `segment`
    /// use the route configuration the scope carries inline (set by the caller).
    package static func scopeShell(segment: String, settings: XDSSettings) -> Envoy_Config_Route_V3_ScopedRouteConfiguration {
        var scope = Envoy_Config_Route_V3_ScopedRouteConfiguration()
        scope.name = routeConfigurationName(segment: segment, settings: settings)
        var fragment = Envoy_Config_Route_V3_ScopedRouteConfiguration.Key.Fragment()
        fragment.stringKey = segment
        scope.key.fragments = [fragment]
        return scope
    }

    /// The scopes, one per first path segment, each with its route configuration inline
    /// (``routeConfigurations(system:apis:settings:)``). Sorted by name.
    package static func scopes(
        system: APIResources, apis: [APIResources], settings: XDSSettings
    ) -> [Envoy_Config_Route_V3_ScopedRouteConfiguration] {
        routeConfigurationsBySegment(system: system, apis: apis, settings: settings).map { segment, configuration in
            var scope = scopeShell(segment: segment, settings: settings)
            scope.routeConfiguration = configuration
            return scope
        }
    }

    /// A virtual host without routes: its hostname, plus the bare production hostname (`gw.wso2.com`) for the
    /// `default` organization's production host when no virtual host of that name has routes of its own (in the
    /// same scope).
    package static func virtualHost(
        _ host: String, hasRoutes: (String) -> Bool, settings: XDSSettings
    ) -> Envoy_Config_Route_V3_VirtualHost {
        var vhost = Envoy_Config_Route_V3_VirtualHost()
        vhost.name = host
        vhost.domains = [host]
        for production in settings.productionVhosts where host == "default.\(production)" && !hasRoutes(production) {
            vhost.domains.append(production)
        }
        return vhost
    }

    /// The gateway listeners: HTTPS (only with a certificate) and HTTP, both with the same HTTP connection manager.
    package static func listeners(settings: XDSSettings) -> [Envoy_Config_Listener_V3_Listener] {
        var listeners: [Envoy_Config_Listener_V3_Listener] = []
        if let tls = settings.tls {
            var context = Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext()
            var certificate = Envoy_Extensions_TransportSockets_Tls_V3_TlsCertificate()
            certificate.certificateChain.filename = tls.certificatePath
            certificate.privateKey.filename = tls.keyPath
            context.commonTlsContext.tlsCertificates = [certificate]
            context.commonTlsContext.alpnProtocols = ["h2", "http/1.1"]
            var socket = Envoy_Config_Core_V3_TransportSocket()
            socket.name = "envoy.transport_sockets.tls"
            socket.typedConfig = AnyPacking.packUnchecked(context)
            listeners.append(
                listener(name: settings.httpsListenerName, port: settings.httpsPort, scheme: "https",
                         transportSocket: socket, settings: settings))
        }
        if let port = settings.httpPort {
            listeners.append(
                listener(name: settings.httpListenerName(port), port: port, scheme: "http", transportSocket: nil,
                         settings: settings))
        }
        return listeners
    }

    static func listener(
        name: String, port: Int, scheme: String, transportSocket: Envoy_Config_Core_V3_TransportSocket?,
        settings: XDSSettings
    ) -> Envoy_Config_Listener_V3_Listener {
        var hcm = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
        hcm.statPrefix = "\(scheme)_\(port)"
        hcm.codecType = .auto
        var source = Envoy_Config_Core_V3_ConfigSource()
        source.ads = Envoy_Config_Core_V3_AggregatedConfigSource()
        source.resourceApiVersion = .v3
        var scoped = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ScopedRoutes()
        scoped.name = settings.routeConfigName
        var fragment = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ScopedRoutes.ScopeKeyBuilder.FragmentBuilder()
        fragment.headerValueExtractor.name = ScopedRouting.pathHeader
        fragment.headerValueExtractor.elementSeparator = "/"
        fragment.headerValueExtractor.index = 1
        scoped.scopeKeyBuilder.fragments = [fragment]
        scoped.rdsConfigSource = source
        scoped.scopedRds.scopedRdsConfigSource = source
        hcm.scopedRoutes = scoped
        // Before route selection: the path without its query, for the scope key (`/pets?x=1` must key `pets`).
        var copyPath = Envoy_Config_Common_MutationRules_V3_HeaderMutation()
        copyPath.append.header.key = ScopedRouting.pathHeader
        copyPath.append.header.value = "%PATH(NQ)%"
        copyPath.append.appendAction = .overwriteIfExistsOrAdd
        var earlyMutation = Envoy_Extensions_Http_EarlyHeaderMutation_HeaderMutation_V3_HeaderMutation()
        earlyMutation.mutations = [copyPath]
        var early = Envoy_Config_Core_V3_TypedExtensionConfig()
        early.name = "envoy.http.early_header_mutation.header_mutation"
        early.typedConfig = AnyPacking.packUnchecked(earlyMutation)
        hcm.earlyHeaderMutationExtensions = [early]
        var router = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        router.name = "envoy.filters.http.router"
        router.typedConfig = AnyPacking.packUnchecked(Envoy_Extensions_Filters_Http_Router_V3_Router())
        hcm.httpFilters = [router]
        hcm.localReplyConfig = LocalReplies.config()
        hcm.streamIdleTimeout = Google_Protobuf_Duration(seconds: 300)
        hcm.commonHTTPProtocolOptions.idleTimeout = Google_Protobuf_Duration(seconds: 3600)
        hcm.useRemoteAddress = Google_Protobuf_BoolValue(true)

        var filter = Envoy_Config_Listener_V3_Filter()
        filter.name = "envoy.filters.network.http_connection_manager"
        filter.typedConfig = AnyPacking.packUnchecked(hcm)
        var chain = Envoy_Config_Listener_V3_FilterChain()
        chain.filters = [filter]
        if let transportSocket { chain.transportSocket = transportSocket }
        var listener = Envoy_Config_Listener_V3_Listener()
        listener.name = name
        listener.address.socketAddress.address = settings.listenerAddress
        listener.address.socketAddress.portValue = UInt32(clamping: port)
        listener.filterChains = [chain]
        return listener
    }
}

/// Packs messages into `Any` with deterministic bytes (map entries sorted), so equal content always gives equal
/// bytes and equal digests — versions are content hashes and must survive an adapter restart.
package enum AnyPacking {
    static let options: BinaryEncodingOptions = {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return options
    }()

    /// Packs `message`; throws only if the message is missing required fields (Envoy's protos have none).
    package static func pack<M: Message>(_ message: M) throws -> Google_Protobuf_Any {
        var any = Google_Protobuf_Any()
        any.typeURL = "type.googleapis.com/" + M.protoMessageName
        any.value = try message.serializedBytes(options: options)
        return any
    }

    /// ``pack(_:)`` for messages built by this module (proto3, no required fields: encoding cannot fail).
    static func packUnchecked<M: Message>(_ message: M) -> Google_Protobuf_Any {
        (try? pack(message)) ?? Google_Protobuf_Any()
    }
}
