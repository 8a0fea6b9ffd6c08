import EnvoyProtos
import Foundation
import SwiftProtobuf

// Gateway-wide: the control plane's own routes and clusters (deployer, config, token endpoint).
extension XDSTranslator {
    /// System clusters (deployer, config service) and their routes per system hostname (contract §10, issue 4):
    /// `idp.am.wso2.com` `/oauth2/` and `/dcr/` (the issuer and client management), `api.am.wso2.com` `/api/…`.
    package static func systemResources(
        settings: XDSSettings, encoder: ProtoEncoder = .deterministic
    ) throws -> APIResources {
        var result = APIResources(id: "apk-system", basePath: "/")
        var routes: [RouteKey: [Envoy_Config_Route_V3_Route]] = [:]
        func key(_ host: String, _ path: String) -> RouteKey {
            RouteKey(segment: ScopedRouting.segment(basePath: path, pathSegment: "") ?? "", host: host)
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
            let name = systemDeployerCluster
            result.clusters.append(try systemCluster(name: name, upstream: deployer, settings: settings, encoder: encoder))
            routes[key("idp.am.wso2.com", "/oauth2/"), default: []].append(prefixRoute("oauth2", "/oauth2/", cluster: name))
            // Client management on the reference IdP's DCR paths (`/dcr/register…`), on the issuer's host.
            routes[key("idp.am.wso2.com", "/dcr/"), default: []].append(prefixRoute("dcr", "/dcr/", cluster: name))
            routes[key("api.am.wso2.com", "/api/"), default: []] += [
                prefixRoute("deployer", "/api/deployer/", cluster: name),
                prefixRoute("runtime", "/api/runtime/", cluster: name),
            ]
        }
        if let enforcer = settings.auth.enforcer {
            result.clusters.append(
                try grpcCluster(name: enforcerCluster, upstream: enforcer.upstream, settings: settings, encoder: encoder))
        }
        if let rateLimiter = settings.rateLimiter {
            result.clusters.append(
                try grpcCluster(name: rateLimiterCluster, upstream: rateLimiter.upstream, settings: settings, encoder: encoder))
        }
        if let jwks = settings.systemEnforcerJWKS {
            // The backend-JWT keys (contract §7.7): `GET https://api.am.wso2.com:9095/.wellknown/jwks`.
            let name = "apk-system/enforcer-jwks"
            result.clusters.append(try systemCluster(name: name, upstream: jwks, settings: settings, encoder: encoder))
            var route = prefixRoute("enforcer-jwks", "", cluster: name)
            route.match.path = "/.wellknown/jwks"
            var method = Envoy_Config_Route_V3_HeaderMatcher()
            method.name = ":method"
            method.stringMatch.exact = "GET"
            route.match.headers = [method]
            route.route.prefixRewrite = "/jwks"
            route.route.timeout = Google_Protobuf_Duration(seconds: 10)
            routes[key("api.am.wso2.com", "/.wellknown/jwks"), default: []].append(route)
        }
        for (index, issuer) in settings.auth.externalIssuers.enumerated() {
            result.clusters.append(
                try systemCluster(name: jwksCluster(index), upstream: issuer.jwks, settings: settings, encoder: encoder))
        }
        for (index, issuer) in settings.auth.apiKeyIssuers.enumerated() {
            result.clusters.append(
                try systemCluster(name: apiKeyJWKSCluster(index), upstream: issuer.jwks, settings: settings, encoder: encoder))
        }
        if let config = settings.systemConfig {
            let name = "apk-system/config"
            result.clusters.append(try systemCluster(name: name, upstream: config, settings: settings, encoder: encoder))
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

    /// Idle time after which the router closes a connection to one of the gateway's own HTTP services: below their
    /// smallest header timeout (`HTTP_HEADER_TIMEOUT_SECONDS`, 30 s by default).
    static let systemIdleTimeoutSeconds: Int64 = 20

    /// The deployer's cluster (also the built-in issuer's JWKS source of `jwt_authn`).
    static let systemDeployerCluster = "apk-system/deployer"

    static func systemCluster(
        name: String, upstream: XDSSettings.Upstream, settings: XDSSettings, encoder: ProtoEncoder
    ) throws -> Envoy_Config_Cluster_V3_Cluster {
        var cluster = upstreamCluster(name: name, host: upstream.host, port: upstream.port, settings: settings)
        // Our services close a kept-alive connection that brings no request within 30 s (`HTTP_HEADER_TIMEOUT_SECONDS`,
        // ConnectionGuard); the router lets it go first, so it never sends a request on a connection being closed.
        var options = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions()
        options.commonHTTPProtocolOptions.idleTimeout = Google_Protobuf_Duration(seconds: systemIdleTimeoutSeconds)
        options.explicitHTTPConfig.httpProtocolOptions = Envoy_Config_Core_V3_Http1ProtocolOptions()  // HTTP/1.1 servers
        cluster.typedExtensionProtocolOptions["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"] =
            try AnyPacking.pack(options, encoder: encoder)
        if upstream.tls {
            var context = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext()
            context.sni = upstream.host
            context.commonTlsContext.validationContext.trustedCa.filename = systemTrustStore
            cluster.transportSocket = try transportSocket(upstream: context, encoder: encoder)
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
}
