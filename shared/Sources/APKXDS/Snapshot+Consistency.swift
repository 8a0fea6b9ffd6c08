import EnvoyProtos
import SwiftProtobuf

extension Snapshot {
    /// Descriptions of every dangling reference: a route naming a missing cluster, a listener's HTTP connection
    /// manager naming a missing RDS route configuration (or using scoped routes when there are no scopes), a scope
    /// naming a missing route configuration (or, inline, a missing cluster), or a resource that does not decode.
    /// Empty = consistent.
    package func inconsistencies() -> [String] {
        var problems: [String] = []
        let clusters = Set(resources(ofType: TypeURL.cluster).resources.keys)
        let routeConfigs = resources(ofType: TypeURL.route).resources
        for (name, any) in routeConfigs.sorted(by: { $0.key < $1.key }) {
            guard let config = try? Envoy_Config_Route_V3_RouteConfiguration(unpackingAny: any) else {
                problems.append("route configuration \(name) does not decode as RouteConfiguration")
                continue
            }
            for cluster in Self.clusterNames(in: config) where !clusters.contains(cluster) {
                problems.append("route configuration \(name) names missing cluster \(cluster)")
            }
        }
        let scopes = resources(ofType: TypeURL.scopedRoute).resources
        for (name, any) in scopes.sorted(by: { $0.key < $1.key }) {
            guard let scope = try? Envoy_Config_Route_V3_ScopedRouteConfiguration(unpackingAny: any) else {
                problems.append("scope \(name) does not decode as ScopedRouteConfiguration")
                continue
            }
            if scope.hasRouteConfiguration {
                for cluster in Self.clusterNames(in: scope.routeConfiguration) where !clusters.contains(cluster) {
                    problems.append("scope \(name) names missing cluster \(cluster)")
                }
            } else if routeConfigs[scope.routeConfigurationName] == nil {
                problems.append("scope \(name) names missing route configuration \(scope.routeConfigurationName)")
            }
        }
        let listeners = resources(ofType: TypeURL.listener).resources
        for (name, any) in listeners.sorted(by: { $0.key < $1.key }) {
            guard let listener = try? Envoy_Config_Listener_V3_Listener(unpackingAny: any) else {
                problems.append("listener \(name) does not decode as Listener")
                continue
            }
            for rds in Self.rdsNames(in: listener) {
                if let rds, routeConfigs[rds] == nil {
                    problems.append("listener \(name) names missing route configuration \(rds)")
                } else if rds == nil, scopes.isEmpty {
                    problems.append("listener \(name) uses scoped routes but there are no scopes")
                }
            }
        }
        return problems
    }

    /// Cluster names referenced by the routes of a route configuration, in order, without duplicates.
    static func clusterNames(in config: Envoy_Config_Route_V3_RouteConfiguration) -> [String] {
        var names: [String] = []
        var seen: Set<String> = []
        func add(_ name: String) {
            if !name.isEmpty, seen.insert(name).inserted { names.append(name) }
        }
        for host in config.virtualHosts {
            for route in host.routes {
                guard case .route(let action)? = route.action else { continue }
                switch action.clusterSpecifier {
                case .cluster(let name)?: add(name)
                case .weightedClusters(let weighted)?: weighted.clusters.forEach { add($0.name) }
                default: break
                }
            }
        }
        return names
    }

    /// RDS route configuration names referenced by a listener's HTTP connection managers (nil for one that uses
    /// scoped routes).
    static func rdsNames(in listener: Envoy_Config_Listener_V3_Listener) -> [String?] {
        var chains = listener.filterChains
        if listener.hasDefaultFilterChain { chains.append(listener.defaultFilterChain) }
        var names: [String?] = []
        for chain in chains {
            for filter in chain.filters {
                guard case .typedConfig(let any)? = filter.configType,
                    any.isA(Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.self),
                    let hcm = try? Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager(
                        unpackingAny: any)
                else { continue }
                switch hcm.routeSpecifier {
                case .rds(let rds)?: names.append(rds.routeConfigName)
                case .scopedRoutes?: names.append(nil)
                default: break
                }
            }
        }
        return names
    }
}
