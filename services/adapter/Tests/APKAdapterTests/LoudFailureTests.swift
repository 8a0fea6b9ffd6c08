import APKAdapter
import APKXDS
import EnvoyProtos
import Foundation
import SwiftProtobuf
import Testing

/// Serialisation failures are never hidden: the API whose resources could not be encoded is not served (no empty
/// `Any`, no empty route bytes reach Envoy), its status says why, and every other API stays served.
@Suite struct LoudFailureTests {
    static let employee = GatewayStateTests.employee

    struct Refused: Error, CustomStringConvertible {
        var description: String { "refused by the test encoder" }
    }

    /// The deterministic encoder, except that it fails for the messages `refuse` picks.
    static func encoder(refusing refuse: @escaping @Sendable (any Message) -> Bool) -> ProtoEncoder {
        ProtoEncoder { message in
            if refuse(message) { throw Refused() }
            return try ProtoEncoder.deterministic.encode(message)
        }
    }

    /// Employee (scope `test`) and edge (`edge`, in organization acme) deployed, loaded by a state with `encoder`.
    static func load(encoder: ProtoEncoder) async throws -> (GatewayState, GatewayState.Update) {
        let fixture = InMemoryResourceStoreFixture()
        try await fixture.deploy("golden/bundles/employee.yaml", api: employee)
        try await fixture.deploy("adapter/edge-cases.in.yaml", api: "edge", organization: "acme")
        var state = try GatewayState(namespace: "default", settings: AdapterFixtures.settings, encoder: encoder)
        let update = state.load(try await fixture.snapshot())
        return (state, update)
    }

    @Test func aClusterThatCannotBePackedFailsOnlyItsAPI() async throws {
        let refusing = Self.encoder { ($0 as? Envoy_Config_Cluster_V3_Cluster)?.name.contains("edge") == true }
        let (state, update) = try await Self.load(encoder: refusing)
        let snapshot = try #require(update.snapshot)
        let names = try GatewayStateTests.routeNames(snapshot)
        #expect(!names.contains { $0.hasPrefix("edge/") }, "the API is not served")
        #expect(names.contains { $0.hasPrefix(Self.employee) }, "the other API is")
        #expect(!snapshot.resources(ofType: TypeURL.cluster).resources.keys.contains { $0.contains("edge") })
        #expect(snapshot.resources(ofType: TypeURL.cluster).resources.values.allSatisfy { !$0.value.isEmpty })
        let status = try #require(update.statuses["edge"])
        #expect(!status.accepted && status.status == "Failed")
        #expect(status.message.contains("could not encode") && status.message.contains("refused by the test encoder"))
        #expect(update.statuses[Self.employee]?.status == "Deployed")
        #expect(state.translation(of: "edge")?.api != nil, "translation itself succeeded")
    }

    @Test func routesThatCannotBeEncodedFailOnlyTheirAPI() async throws {
        let refusing = Self.encoder { ($0 as? Envoy_Config_Route_V3_Route)?.name.hasPrefix("edge/") == true }
        let (_, update) = try await Self.load(encoder: refusing)
        let snapshot = try #require(update.snapshot)
        let names = try GatewayStateTests.routeNames(snapshot)
        #expect(!names.contains { $0.hasPrefix("edge/") })
        #expect(names.contains { $0.hasPrefix(Self.employee) })
        #expect(!snapshot.resources(ofType: TypeURL.cluster).resources.keys.contains { $0.contains("edge") },
                "no clusters of an API that is not served")
        #expect(update.statuses["edge"]?.status == "Failed")
        #expect(update.statuses["edge"]?.message.contains("refused by the test encoder") == true)
        #expect(update.statuses[Self.employee]?.status == "Deployed")
    }

    @Test func aScopeThatCannotBeAssembledFailsTheAPIsInIt() async throws {
        let scope = XDSTranslator.routeConfigurationName(segment: "test", settings: AdapterFixtures.settings)
        let refusing = Self.encoder { ($0 as? Envoy_Config_Route_V3_RouteConfiguration)?.name == scope }
        let (_, update) = try await Self.load(encoder: refusing)
        let snapshot = try #require(update.snapshot)
        #expect(snapshot.resources(ofType: TypeURL.scopedRoute).resources[scope] == nil, "no empty scope published")
        #expect(try GatewayStateTests.routeNames(snapshot).contains { $0.hasPrefix("edge/") }, "other scopes stay")
        let status = try #require(update.statuses[Self.employee])
        #expect(status.status == "Failed" && status.message.contains("/test"))
        #expect(update.statuses["edge"]?.status != "Failed")
    }

    @Test func gatewayWideResourcesThatCannotBeEncodedStopTheStart() throws {
        let refusing = Self.encoder { $0 is Envoy_Config_Listener_V3_Listener }
        #expect(throws: Refused.self) {
            _ = try GatewayState(namespace: "default", settings: AdapterFixtures.settings, encoder: refusing)
        }
    }

    @Test func pathSegmentsComeFromTheMatchNotFromItsRegex() {
        #expect(ScopedRouting.pathSegment(matchType: "Exact", value: "/pets/1") == "pets")
        #expect(ScopedRouting.pathSegment(matchType: "Exact", value: "/") == "")
        #expect(ScopedRouting.pathSegment(matchType: "Exact", value: "/v1.2") == "v1.2")
        #expect(ScopedRouting.pathSegment(matchType: "Exact", value: "/a@b") == nil)
        #expect(ScopedRouting.pathSegment(matchType: "PathPrefix", value: "/pets") == "pets")
        #expect(ScopedRouting.pathSegment(matchType: "PathPrefix", value: "/pets/") == "pets")
        #expect(ScopedRouting.pathSegment(matchType: "PathPrefix", value: "/") == nil, "matches every segment")
        #expect(ScopedRouting.pathSegment(matchType: "RegularExpression", value: "/pets/(.*)") == "pets")
        #expect(ScopedRouting.pathSegment(matchType: "RegularExpression", value: "/p.ts") == nil, ". is a wildcard")
        #expect(ScopedRouting.pathSegment(matchType: "RegularExpression", value: "/(.*)") == nil)
        #expect(ScopedRouting.pathSegment(matchType: "Glob", value: "/pets") == nil)
    }
}
