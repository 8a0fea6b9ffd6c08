import APKAdapter
import APKModel
import APKStore
import APKSupport
import APKTestSupport
import APKXDS
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// A resource store that answers "unavailable" to reads while `outage` is on (the in-memory store behind it).
final class FlakyResourceStore: ResourceStore {
    let inner = InMemoryResourceStore()
    let outage = Atomic<Bool>(false)
    let failedReads = Atomic<Int>(0)

    private func check() throws(StoreError) {
        if outage.load(ordering: .acquiring) {
            failedReads.add(1, ordering: .relaxed)
            throw .unavailable("test outage")
        }
    }

    func apply(_ bundle: CRBundle, namespace: String) async throws(StoreError) -> ApplyResult {
        try await inner.apply(bundle, namespace: namespace)
    }
    func deleteAPI(id: String, namespace: String, organization: String?) async throws(StoreError) -> Bool {
        await inner.deleteAPI(id: id, namespace: namespace, organization: organization)
    }
    func applyResource(_ resource: K8sResource, namespace: String) async throws(StoreError) -> Int64 {
        try await inner.applyResource(resource, namespace: namespace)
    }
    func deleteResource(_ key: ResourceKey) async throws(StoreError) -> Bool { try await inner.deleteResource(key) }
    func get(_ key: ResourceKey) async throws(StoreError) -> StoredResource? { await inner.get(key) }
    func list(kind: String?, namespace: String?, owner: String?) async throws(StoreError) -> [StoredResource] {
        try check()
        return await inner.list(kind: kind, namespace: namespace, owner: owner)
    }
    func updateStatus(_ key: ResourceKey, status: JSONValue) async throws(StoreError) -> Bool {
        await inner.updateStatus(key, status: status)
    }
    func updateStatuses(_ updates: [(key: ResourceKey, status: JSONValue)]) async throws(StoreError) -> [Bool] {
        try await inner.updateStatuses(updates)
    }
    func events(after cursor: Int64, limit: Int) async throws(StoreError) -> [ResourceEvent] {
        try check()
        return await inner.events(after: cursor, limit: limit)
    }
    func waitForEvents(after cursor: Int64, timeout: Duration) async throws(StoreError) {
        try check()
        await inner.waitForEvents(after: cursor, timeout: timeout)
    }
    func latestCursor() async throws(StoreError) -> Int64 {
        try check()
        return await inner.latestCursor()
    }
}

/// The control loop end to end over an in-memory store: list → first snapshot → follow the change feed → statuses,
/// through store outages (retried with back-off, nothing lost), stopped by graceful shutdown.
@Suite struct AdapterServiceTests {
    static let node = "gw-test"
    static let fast = Backoff(initial: .milliseconds(5), max: .milliseconds(40), jitter: 0)

    /// Polls `condition` until it holds (``Poll``: the bound only detects a hang).
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        try await Poll.until(condition)
    }

    static func routeNames(_ cache: SnapshotCache) throws -> [String] {
        guard let snapshot = cache.snapshot(node: node) else { return [] }
        return try GatewayStateTests.routeNames(snapshot)
    }

    static func deploy(_ store: FlakyResourceStore, _ input: String, api: String, organization: String = "default") async throws {
        let resources = try AdapterFixtures.resources(input)
        _ = try await store.apply(AdapterFixtures.bundle(resources, api: api, organization: organization), namespace: "default")
    }

    @Test func followsTheStoreThroughAnOutageAndStopsOnShutdown() async throws {
        let store = FlakyResourceStore()
        store.outage.store(true, ordering: .releasing)  // unreachable at start: the first list is retried
        let cache = SnapshotCache()
        var logger = Logger(label: "adapter-service-test")
        logger.logLevel = .critical
        let service = AdapterService(
            store: store, cache: cache, nodeID: Self.node,
            state: try GatewayState(namespace: "default", settings: AdapterFixtures.settings), logger: logger,
            backoff: Self.fast)
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }

            #expect(try await Self.eventually { store.failedReads.load(ordering: .relaxed) >= 3 }, "list retried")
            #expect(!service.isReady && cache.snapshot(node: Self.node) == nil)
            try await Self.deploy(store, "golden/bundles/employee.yaml", api: GatewayStateTests.employee)
            store.outage.store(false, ordering: .releasing)
            #expect(try await Self.eventually { service.isReady })
            #expect(try Self.routeNames(cache).contains { $0.hasPrefix(GatewayStateTests.employee) })
            // The API's status is written back to the store.
            let key = ResourceKey(kind: "API", namespace: "default", name: GatewayStateTests.employee)
            #expect(try await Self.eventually {
                (try await store.get(key)?.status?["deploymentStatus"]?["status"]?.stringValue) == "Deployed"
            })

            // An outage while following: deploys made meanwhile arrive once the store is back (gap-free feed).
            let before = store.failedReads.load(ordering: .relaxed)
            store.outage.store(true, ordering: .releasing)
            try await Self.deploy(store, "adapter/edge-cases.in.yaml", api: "edge", organization: "acme")
            _ = try await Self.eventually { store.failedReads.load(ordering: .relaxed) > before }
            store.outage.store(false, ordering: .releasing)
            #expect(try await Self.eventually { try Self.routeNames(cache).contains { $0.hasPrefix("edge/") } })

            // Undeploy: the routes leave the snapshot; the other API stays.
            _ = try await store.deleteAPI(id: "edge", namespace: "default")
            #expect(try await Self.eventually { try !Self.routeNames(cache).contains { $0.hasPrefix("edge/") } })
            #expect(try Self.routeNames(cache).contains { $0.hasPrefix(GatewayStateTests.employee) })
            #expect(service.currentStats.apis == 1 && service.currentStats.snapshotsPublished >= 3)

            await group.triggerGracefulShutdown()
            try await tasks.next()  // run() returns: the loop ends on graceful shutdown
        }
    }

    @Test func shutdownBeforeTheStoreWasEverReachableEndsTheLoop() async throws {
        let store = FlakyResourceStore()
        store.outage.store(true, ordering: .releasing)
        var logger = Logger(label: "adapter-service-test")
        logger.logLevel = .critical
        let service = AdapterService(
            store: store, cache: SnapshotCache(), nodeID: Self.node,
            state: try GatewayState(namespace: "default", settings: AdapterFixtures.settings), logger: logger,
            backoff: Self.fast)
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await Self.eventually { store.failedReads.load(ordering: .relaxed) >= 2 })
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
        #expect(!service.isReady)
    }
}
