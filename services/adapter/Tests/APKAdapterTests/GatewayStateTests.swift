import APKAdapter
import APKModel
import APKStore
import APKXDS
import EnvoyProtos
import Foundation
import SwiftProtobuf
import Testing

/// An in-memory store with the fixture APIs, and the events a state must apply to follow it.
struct InMemoryResourceStoreFixture {
    let store = InMemoryResourceStore()

    func snapshot() async throws -> ResourceSnapshot {
        try await ResourceWatcher(store: store).snapshot(namespace: "default")
    }

    func events(after cursor: Int64) async throws -> [ResourceEvent] {
        await store.events(after: cursor, limit: 10_000)
    }

    func deploy(_ input: String, api: String, organization: String = "default") async throws {
        let resources = try AdapterFixtures.resources(input)
        _ = try await store.apply(AdapterFixtures.bundle(resources, api: api, organization: organization), namespace: "default")
    }
}

/// The adapter's incremental state: per-API retranslation, content-hash versions, deletes, statuses and NACKs.
@Suite struct GatewayStateTests {
    static let employee = "f7996dce4ac15e2af0f8ee14546c4f72988eddae"

    /// The route configurations (inline, one per scope), by scope name.
    static func routeConfigurations(_ snapshot: Snapshot) throws -> [Envoy_Config_Route_V3_RouteConfiguration] {
        try snapshot.resources(ofType: TypeURL.scopedRoute).resources.sorted { $0.key < $1.key }.map {
            try Envoy_Config_Route_V3_ScopedRouteConfiguration(unpackingAny: $0.value).routeConfiguration
        }
    }

    static func routeNames(_ snapshot: Snapshot) throws -> [String] {
        try routeConfigurations(snapshot).flatMap { $0.virtualHosts.flatMap { $0.routes.map(\.name) } }
    }

    @Test func followsDeploysUpdatesAndUndeploys() async throws {
        let fixture = InMemoryResourceStoreFixture()
        var state = try GatewayState(namespace: "default", settings: AdapterFixtures.settings)
        let empty = try #require(state.load(try await fixture.snapshot()).snapshot)
        #expect(try Self.routeNames(empty).allSatisfy { $0.hasPrefix("apk-system/") })

        try await fixture.deploy("golden/bundles/employee.yaml", api: Self.employee)
        var update = state.apply(try await fixture.events(after: state.cursor))
        let deployed = try #require(update.snapshot)
        #expect(try Self.routeNames(deployed).filter { $0.hasPrefix(Self.employee) }.count == 4)
        #expect(deployed.resources(ofType: TypeURL.cluster).resources.keys.contains(
            "default/backend-401a7cf64434de40da9efad5305ef7c03252c774-api"))
        #expect(deployed.version(ofType: TypeURL.cluster) != empty.version(ofType: TypeURL.cluster))
        #expect(deployed.version(ofType: TypeURL.listener) == empty.version(ofType: TypeURL.listener))
        let status = try #require(update.statuses[Self.employee])
        #expect(status.accepted && status.status == "Deployed")
        #expect(status.observedGeneration == 1, "a status says which generation of the API it describes")
        #expect(status.document(at: Date())["deploymentStatus"]?["observedGeneration"] == 1)

        // The status write comes back as an event: nothing to translate, nothing to publish, no status to write.
        _ = await fixture.store.updateStatus(
            ResourceKey(kind: "API", namespace: "default", name: Self.employee), status: status.document(at: Date()))
        update = state.apply(try await fixture.events(after: state.cursor))
        #expect(update.snapshot == nil)
        #expect(update.statuses.isEmpty)

        #expect(try await fixture.store.deleteAPI(id: Self.employee, namespace: "default"))
        update = state.apply(try await fixture.events(after: state.cursor))
        let removed = try #require(update.snapshot)
        #expect(try Self.routeNames(removed) == Self.routeNames(empty))
        #expect(removed.version(ofType: TypeURL.scopedRoute) == empty.version(ofType: TypeURL.scopedRoute),
                "versions are content digests: back to the empty configuration, back to its version")
        #expect(removed.version(ofType: TypeURL.cluster) == empty.version(ofType: TypeURL.cluster))
        #expect(removed.resources(ofType: TypeURL.cluster) == empty.resources(ofType: TypeURL.cluster))
        #expect(state.apiCount == 0)
    }

    @Test func versionsAreTheSameForTheSameContentInAnotherProcess() async throws {
        let fixture = InMemoryResourceStoreFixture()
        try await fixture.deploy("golden/bundles/employee.yaml", api: Self.employee)
        try await fixture.deploy("golden/bundles/full.yaml", api: "orders-api-v2")
        var first = try GatewayState(namespace: "default", settings: AdapterFixtures.settings)
        var second = try GatewayState(namespace: "default", settings: AdapterFixtures.settings)
        let a = try #require(first.load(try await fixture.snapshot()).snapshot)
        let b = try #require(second.load(try await fixture.snapshot()).snapshot)
        for type in [TypeURL.listener, TypeURL.scopedRoute, TypeURL.cluster] {
            #expect(a.version(ofType: type) == b.version(ofType: type))
        }
        #expect(a == b)
    }

    @Test func defaultVersionRoutesComeAfterEveryVersionedRoute() async throws {
        let fixture = InMemoryResourceStoreFixture()
        try await fixture.deploy("golden/bundles/full.yaml", api: "orders-api-v2")
        try await fixture.deploy("golden/bundles/employee.yaml", api: Self.employee)
        var state = try GatewayState(namespace: "default", settings: AdapterFixtures.settings)
        let snapshot = try #require(state.load(try await fixture.snapshot()).snapshot)
        for host in try Self.routeConfigurations(snapshot).flatMap(\.virtualHosts) {
            let names = host.routes.map(\.name)
            guard let firstDefault = names.firstIndex(where: { $0.hasSuffix("/default") }) else { continue }
            #expect(names[firstDefault...].allSatisfy { $0.hasSuffix("/default") }, "\(host.name): \(names)")
        }
    }

    @Test func aRejectedAPIIsLeftOutUntilItChanges() async throws {
        let fixture = InMemoryResourceStoreFixture()
        var state = try GatewayState(namespace: "default", settings: AdapterFixtures.settings)
        _ = state.load(try await fixture.snapshot())
        try await fixture.deploy("golden/bundles/employee.yaml", api: Self.employee)
        let good = try #require(state.apply(try await fixture.events(after: state.cursor)).snapshot)
        try await fixture.deploy("adapter/edge-cases.in.yaml", api: "edge", organization: "acme")
        let bad = try #require(state.apply(try await fixture.events(after: state.cursor)).snapshot)
        #expect(try Self.routeNames(bad).contains { $0.hasPrefix("edge/") })

        let nack = NACKRecord(
            node: "gw", typeURL: TypeURL.scopedRoute, acceptedVersion: good.version(ofType: TypeURL.scopedRoute),
            rejectedVersion: bad.version(ofType: TypeURL.scopedRoute), rejectedNonce: "7", message: "invalid regex")
        let rejection = state.rejected(nack)
        let update = try #require(rejection)
        let recovered = try #require(update.snapshot)
        #expect(try Self.routeNames(recovered).filter { $0.hasPrefix("edge/") }.isEmpty)
        #expect(try Self.routeNames(recovered).contains { $0.hasPrefix(Self.employee) }, "the other API stays")
        #expect(recovered.version(ofType: TypeURL.scopedRoute) == good.version(ofType: TypeURL.scopedRoute))
        #expect(update.statuses["edge"]?.accepted == false)
        #expect(update.statuses["edge"]?.message.contains("invalid regex") == true)
        #expect(update.statuses["edge"]?.observedGeneration != nil, "a quarantine status is stamped too")
        #expect(update.statuses[Self.employee] == nil)
        #expect(state.quarantined.keys.sorted() == ["edge"])

        // A NACK nobody can be blamed for (a version never published) changes nothing.
        let unknown = state.rejected(NACKRecord(
            node: "gw", typeURL: TypeURL.scopedRoute, acceptedVersion: "", rejectedVersion: "unknown", rejectedNonce: "8",
            message: "?"))
        #expect(unknown == nil)

        // Redeploying the API (a new generation) gives it another chance.
        var resources = try AdapterFixtures.resources("adapter/edge-cases.in.yaml")
        let index = try #require(resources.firstIndex { $0.kind == "Backend" && $0.name == "edge-plain" })
        resources[index].body["spec"] = .object(JSONObject([
            ("services", .array([.object(JSONObject([("host", .string("plain2.default.svc")), ("port", .int(80))]))])),
            ("protocol", .string("http")),
        ]))
        _ = try await fixture.store.apply(AdapterFixtures.bundle(resources, api: "edge", organization: "acme"), namespace: "default")
        let retried = try #require(state.apply(try await fixture.events(after: state.cursor)).snapshot)
        #expect(try Self.routeNames(retried).contains { $0.hasPrefix("edge/") })
        #expect(state.quarantined.isEmpty)
    }

    @Test func statusesSayWhatIsServed() async throws {
        let fixture = InMemoryResourceStoreFixture()
        try await fixture.deploy("golden/bundles/employee.yaml", api: Self.employee)
        for api in ["edge", "graph", "orphan"] {
            try await fixture.deploy("adapter/edge-cases.in.yaml", api: api, organization: "acme")
        }
        var state = try GatewayState(namespace: "default", settings: AdapterFixtures.settings)
        let statuses = state.load(try await fixture.snapshot()).statuses
        #expect(statuses[Self.employee]?.status == "Deployed")
        #expect(statuses["edge"]?.status == "PartiallyDeployed")
        #expect(statuses["edge"]?.accepted == true)
        #expect(statuses["graph"]?.status == "Failed")
        #expect(statuses["orphan"]?.accepted == false)
    }
}
