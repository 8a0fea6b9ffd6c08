package import EnvoyProtos
import Foundation
import SwiftProtobuf

// Route configuration and scope shells, API order and virtual hosts: what RouteAssembly fills per scope.
extension XDSTranslator {
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
}
