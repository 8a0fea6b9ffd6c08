import EnvoyProtos
import SwiftProtobuf

@testable import APKXDS

/// Small builders for snapshots and requests.
enum Fixtures {
    static func cluster(_ name: String) -> Envoy_Config_Cluster_V3_Cluster {
        var cluster = Envoy_Config_Cluster_V3_Cluster()
        cluster.name = name
        return cluster
    }

    static func routeConfig(_ name: String, clusters: [String], weighted: [String] = []) -> Envoy_Config_Route_V3_RouteConfiguration {
        var config = Envoy_Config_Route_V3_RouteConfiguration()
        config.name = name
        var host = Envoy_Config_Route_V3_VirtualHost()
        host.name = "host"
        host.domains = ["*"]
        for cluster in clusters {
            var route = Envoy_Config_Route_V3_Route()
            route.route.cluster = cluster
            host.routes.append(route)
        }
        if !weighted.isEmpty {
            var route = Envoy_Config_Route_V3_Route()
            route.route.weightedClusters.clusters = weighted.map { name in
                var weight = Envoy_Config_Route_V3_WeightedCluster.ClusterWeight()
                weight.name = name
                return weight
            }
            host.routes.append(route)
        }
        config.virtualHosts = [host]
        return config
    }

    static func listener(_ name: String, rds: String) throws -> Envoy_Config_Listener_V3_Listener {
        var hcm = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
        hcm.statPrefix = name
        hcm.rds.routeConfigName = rds
        var filter = Envoy_Config_Listener_V3_Filter()
        filter.name = "envoy.filters.network.http_connection_manager"
        filter.typedConfig = try Google_Protobuf_Any(message: hcm)
        var chain = Envoy_Config_Listener_V3_FilterChain()
        chain.filters = [filter]
        var listener = Envoy_Config_Listener_V3_Listener()
        listener.name = name
        listener.filterChains = [chain]
        return listener
    }

    /// A snapshot with clusters (and optionally routes) at one version.
    static func snapshot(
        version: String, clusters: [String], routes: [String: [String]] = [:]
    ) throws -> Snapshot {
        var snapshot = Snapshot()
        try snapshot.set(TypeURL.cluster, version: version, clusters.map(cluster), name: \.name)
        if !routes.isEmpty {
            try snapshot.set(
                TypeURL.route, version: version, routes.map { routeConfig($0.key, clusters: $0.value) }, name: \.name)
        }
        return snapshot
    }

    static func request(
        _ typeURL: String = TypeURL.cluster, version: String = "", nonce: String = "", names: [String] = [],
        error: String? = nil, node: String = "envoy-1"
    ) -> Envoy_Service_Discovery_V3_DiscoveryRequest {
        var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
        request.typeURL = typeURL
        request.versionInfo = version
        request.responseNonce = nonce
        request.resourceNames = names
        request.node.id = node
        if let error {
            request.errorDetail.code = 3
            request.errorDetail.message = error
        }
        return request
    }
}
