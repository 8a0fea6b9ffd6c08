/// Envoy xDS type URLs used by the ADS server.
package enum TypeURL {
    /// Listener discovery (LDS).
    package static let listener = "type.googleapis.com/envoy.config.listener.v3.Listener"
    /// Route configuration discovery (RDS).
    package static let route = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
    /// Scoped route discovery (SRDS).
    package static let scopedRoute = "type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration"
    /// Cluster discovery (CDS).
    package static let cluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
    /// Extension configuration discovery (ECDS): HTTP filter configurations named by the listeners.
    package static let extensionConfig = "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig"
    /// Endpoint discovery (EDS).
    package static let endpoint = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"

    /// APK discovery (enforcer, ratelimiter): the organizations' token issuers (`apk.discovery.v1.TokenIssuer`).
    package static let tokenIssuer = "type.googleapis.com/apk.discovery.v1.TokenIssuer"
    /// APK discovery (ratelimiter): rate-limit rules per organization and environment.
    package static let rateLimitConfig = "type.googleapis.com/apk.discovery.v1.RateLimitConfig"

    /// Types whose empty `resource_names` (and, for SotW, any request) mean "all resources".
    package static let wildcardTypes: Set<String> = [listener, cluster, scopedRoute, tokenIssuer, rateLimitConfig]

    /// The short label used in metrics and logs (`Cluster`, `Listener`, …).
    package static func shortName(_ typeURL: String) -> String {
        guard let dot = typeURL.lastIndex(of: ".") else { return typeURL }
        return String(typeURL[typeURL.index(after: dot)...])
    }
}

/// What the adapter and the ratelimiter agree on besides the `RateLimitConfig` resources: every APK rule is one Envoy
/// descriptor with this one key, its value the rule's `descriptor_value`.
package enum RateLimitDescriptor {
    package static let key = "apk.rule"
}
