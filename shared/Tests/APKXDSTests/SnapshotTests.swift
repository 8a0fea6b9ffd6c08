import EnvoyProtos
import SwiftProtobuf
import Testing

@testable import APKXDS

@Suite struct SnapshotConsistencyTests {
    @Test func consistentSnapshotHasNoProblems() throws {
        var snapshot = try Fixtures.snapshot(version: "1", clusters: ["a", "b"], routes: ["r1": ["a", "b"]])
        try snapshot.set(TypeURL.listener, version: "1", [Fixtures.listener("l1", rds: "r1")], name: \.name)
        #expect(snapshot.inconsistencies() == [])
    }

    @Test func routeNamingMissingClusterIsReported() throws {
        let snapshot = try Fixtures.snapshot(version: "1", clusters: ["a"], routes: ["r1": ["a", "missing"]])
        #expect(snapshot.inconsistencies() == ["route configuration r1 names missing cluster missing"])
    }

    @Test func weightedClustersAreChecked() throws {
        var snapshot = try Fixtures.snapshot(version: "1", clusters: ["a"])
        try snapshot.set(
            TypeURL.route, version: "1", [Fixtures.routeConfig("r", clusters: [], weighted: ["a", "w"])],
            name: \.name)
        #expect(snapshot.inconsistencies() == ["route configuration r names missing cluster w"])
    }

    @Test func listenerNamingMissingRouteConfigIsReported() throws {
        var snapshot = try Fixtures.snapshot(version: "1", clusters: [])
        try snapshot.set(TypeURL.listener, version: "1", [Fixtures.listener("l1", rds: "nope")], name: \.name)
        #expect(snapshot.inconsistencies() == ["listener l1 names missing route configuration nope"])
    }

    @Test func scopesMustNameExistingRouteConfigurations() throws {
        var snapshot = try Fixtures.snapshot(version: "1", clusters: ["a"], routes: ["r1": ["a"]])
        func scope(_ name: String, routes: String) -> Envoy_Config_Route_V3_ScopedRouteConfiguration {
            var scope = Envoy_Config_Route_V3_ScopedRouteConfiguration()
            scope.name = name
            scope.routeConfigurationName = routes
            return scope
        }
        var inline = scope("s3", routes: "")
        inline.routeConfiguration = Fixtures.routeConfig("s3", clusters: ["a", "gone"])
        try snapshot.set(
            TypeURL.scopedRoute, version: "1", [scope("s1", routes: "r1"), scope("s2", routes: "r2"), inline], name: \.name)
        #expect(snapshot.inconsistencies() == [
            "scope s2 names missing route configuration r2", "scope s3 names missing cluster gone",
        ])

        // A listener with scoped routes needs at least one scope.
        var hcm = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
        hcm.scopedRoutes.name = "scoped"
        var filter = Envoy_Config_Listener_V3_Filter()
        filter.typedConfig = try Google_Protobuf_Any(message: hcm)
        var listener = Envoy_Config_Listener_V3_Listener()
        listener.name = "l1"
        listener.filterChains = [Envoy_Config_Listener_V3_FilterChain.with { $0.filters = [filter] }]
        try snapshot.set(TypeURL.listener, version: "1", [listener], name: \.name)
        snapshot.types[TypeURL.scopedRoute] = nil
        #expect(snapshot.inconsistencies() == ["listener l1 uses scoped routes but there are no scopes"])
    }

    @Test func undecodableResourceIsReported() throws {
        var snapshot = Snapshot()
        let wrong = try Google_Protobuf_Any(message: Fixtures.cluster("c"))
        snapshot.types[TypeURL.route] = VersionedResources(version: "1", resources: ["r": wrong])
        #expect(snapshot.inconsistencies() == ["route configuration r does not decode as RouteConfiguration"])
    }

    @Test func missingTypeIsEmptyWithEmptyVersion() {
        let snapshot = Snapshot()
        #expect(snapshot.resources(ofType: TypeURL.cluster) == VersionedResources(version: ""))
    }
}

@Suite struct SnapshotCacheTests {
    @Test func setAndGet() throws {
        let cache = SnapshotCache()
        #expect(cache.snapshot(node: "n") == nil)
        let snapshot = try Fixtures.snapshot(version: "1", clusters: ["a"])
        cache.setSnapshot(node: "n", snapshot: snapshot)
        #expect(cache.snapshot(node: "n") == snapshot)
        #expect(cache.snapshot(node: "other") == nil)
    }

    @Test func updatesDeliverCurrentThenNewer() async throws {
        let cache = SnapshotCache()
        cache.setSnapshot(node: "n", snapshot: try Fixtures.snapshot(version: "1", clusters: ["a"]))
        var iterator = cache.updates(node: "n").makeAsyncIterator()
        #expect(await iterator.next()?.version(ofType: TypeURL.cluster) == "1")
        cache.setSnapshot(node: "other", snapshot: try Fixtures.snapshot(version: "9", clusters: []))
        cache.setSnapshot(node: "n", snapshot: try Fixtures.snapshot(version: "2", clusters: ["a"]))
        #expect(await iterator.next()?.version(ofType: TypeURL.cluster) == "2")
    }

    @Test func slowSubscriberSeesOnlyTheNewest() async throws {
        let cache = SnapshotCache()
        let stream = cache.updates(node: "n")
        for version in 1...5 {
            cache.setSnapshot(node: "n", snapshot: try Fixtures.snapshot(version: "\(version)", clusters: []))
        }
        var iterator = stream.makeAsyncIterator()
        #expect(await iterator.next()?.version(ofType: TypeURL.cluster) == "5")
    }

    @Test func subscriptionEndsWithItsConsumer() async throws {
        let cache = SnapshotCache()
        let task = Task {
            for await _ in cache.updates(node: "n") {}
        }
        while cache.subscriberCount(node: "n") == 0 { await Task.yield() }
        task.cancel()
        await task.value
        #expect(cache.subscriberCount(node: "n") == 0)
    }
}
