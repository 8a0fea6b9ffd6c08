package import EnvoyProtos
import Foundation
import SwiftProtobuf

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
    /// `native` mode: the credential lists whose `jwt_authn` requirement the routes name (the gateway's ECDS
    /// configuration must define each).
    package var requirements: Set<JWTRequirement> = []
    /// Local-share mode: the local stages of its quotas (the gateway's ECDS configuration must define each).
    package var localShares: Set<LocalShareRule> = []

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
