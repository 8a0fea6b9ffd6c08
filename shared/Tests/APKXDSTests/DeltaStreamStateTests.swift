import EnvoyProtos
import SwiftProtobuf
import Testing

@testable import APKXDS

/// The incremental ADS protocol rules, without a network (``DeltaStreamState``).
@Suite struct DeltaStreamStateTests {
    typealias Response = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse

    static func request(
        _ typeURL: String = TypeURL.cluster, subscribe: [String] = [], unsubscribe: [String] = [], nonce: String = "",
        initial: [String: String] = [:], error: String? = nil
    ) -> Envoy_Service_Discovery_V3_DeltaDiscoveryRequest {
        var request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
        request.typeURL = typeURL
        request.node.id = "envoy-1"
        request.resourceNamesSubscribe = subscribe
        request.resourceNamesUnsubscribe = unsubscribe
        request.responseNonce = nonce
        request.initialResourceVersions = initial
        if let error {
            request.errorDetail.code = 3
            request.errorDetail.message = error
        }
        return request
    }

    static func snapshot(_ version: String, clusters: [String], routes: [String: [String]] = [:]) throws -> Snapshot {
        try Fixtures.snapshot(version: version, clusters: clusters, routes: routes)
    }

    func only(_ responses: [Response]) throws -> Response {
        try #require(responses.count == 1, "\(responses.map(\.typeURL))")
        return responses[0]
    }

    @Test func wildcardGetsEverythingThenOnlyWhatChanged() throws {
        var state = DeltaStreamState(node: "envoy-1")
        #expect(state.handle(Self.request()) == .subscription)
        let v1 = try Self.snapshot("v1", clusters: ["a", "b"])
        let first = try only(state.responses(for: v1))
        #expect(first.resources.map(\.name) == ["a", "b"])
        #expect(first.systemVersionInfo == "v1")
        #expect(first.resources.allSatisfy { !$0.version.isEmpty })
        #expect(state.handle(Self.request(nonce: first.nonce)) == .ack(version: "v1"))
        #expect(state.responses(for: v1).isEmpty, "an ACK is not answered")

        // One cluster added, one removed, one unchanged: the response says exactly that.
        let v2 = try Self.snapshot("v2", clusters: ["a", "c"])
        let second = try only(state.responses(for: v2))
        #expect(second.resources.map(\.name) == ["c"])
        #expect(second.removedResources == ["b"])
        #expect(second.systemVersionInfo == "v2")
    }

    @Test func oneResponseOutstandingPerTypeThenOnlyTheNewest() throws {
        var state = DeltaStreamState(node: "envoy-1")
        _ = state.handle(Self.request())
        let first = try only(state.responses(for: try Self.snapshot("v1", clusters: ["a"])))
        #expect(state.responses(for: try Self.snapshot("v2", clusters: ["a", "b"])).isEmpty, "v1 not answered yet")
        let v3 = try Self.snapshot("v3", clusters: ["a", "b", "c"])
        #expect(state.handle(Self.request(nonce: first.nonce)) == .ack(version: "v1"))
        let next = try only(state.responses(for: v3))
        #expect(next.systemVersionInfo == "v3")
        #expect(next.resources.map(\.name) == ["b", "c"])
    }

    @Test func namedSubscriptionsGetTheirResourcesAndSurviveAStaleNonce() throws {
        var state = DeltaStreamState(node: "envoy-1")
        let v1 = try Self.snapshot("v1", clusters: ["a", "b"], routes: ["r1": ["a"], "r2": ["b"]])
        _ = state.handle(Self.request(TypeURL.route, subscribe: ["r1"]))
        let first = try only(state.responses(for: v1))
        #expect(first.resources.map(\.name) == ["r1"])
        // Subscribing r2 with an old nonce: the answer part is stale, the subscription still counts.
        #expect(state.handle(Self.request(TypeURL.route, subscribe: ["r2"], nonce: "999")) == .stale)
        #expect(state.handle(Self.request(TypeURL.route, nonce: first.nonce)) == .ack(version: "v1"))
        let second = try only(state.responses(for: v1))
        #expect(second.resources.map(\.name) == ["r2"])
        // A route configuration that changes goes out alone; an unsubscribed one is never sent again.
        _ = state.handle(Self.request(TypeURL.route, unsubscribe: ["r2"], nonce: second.nonce))
        let v2 = try Self.snapshot("v2", clusters: ["a", "b"], routes: ["r1": ["a", "b"], "r2": ["a"]])
        let third = try only(state.responses(for: v2))
        #expect(third.resources.map(\.name) == ["r1"])
        #expect(third.removedResources.isEmpty)
    }

    @Test func aTypesFirstRequestIsAnsweredEvenWhenNothingExists() throws {
        var state = DeltaStreamState(node: "envoy-1")
        _ = state.handle(Self.request(TypeURL.route, subscribe: ["missing"]))
        let answer = try only(state.responses(for: try Self.snapshot("v1", clusters: ["a"])))
        #expect(answer.resources.isEmpty)
        _ = state.handle(Self.request(TypeURL.route, nonce: answer.nonce))
        #expect(state.responses(for: try Self.snapshot("v2", clusters: ["b"])).isEmpty)
    }

    @Test func aReconnectingEnvoyGetsOnlyWhatItDoesNotHave() throws {
        let v1 = try Self.snapshot("v1", clusters: ["a", "b", "c"])
        let resources = v1.resources(ofType: TypeURL.cluster).resources
        let versionA = DeltaStreamState.version(of: try #require(resources["a"]))
        var state = DeltaStreamState(node: "envoy-1")
        // It has a (current), b at an old version, and d (gone since).
        _ = state.handle(Self.request(initial: ["a": versionA, "b": "old", "d": "old"]))
        let response = try only(state.responses(for: v1))
        #expect(response.resources.map(\.name) == ["b", "c"])
        #expect(response.removedResources == ["d"])
    }

    @Test func nackIsRecordedAndTheRejectedContentIsNotResent() throws {
        var state = DeltaStreamState(node: "envoy-1")
        _ = state.handle(Self.request())
        let v1 = try Self.snapshot("v1", clusters: ["a"])
        let first = try only(state.responses(for: v1))
        _ = state.handle(Self.request(nonce: first.nonce))
        let v2 = try Self.snapshot("v2", clusters: ["a", "bad"])
        let rejected = try only(state.responses(for: v2))
        let outcome = state.handle(Self.request(nonce: rejected.nonce, error: "invalid cluster bad"))
        #expect(outcome == .nack(NACKRecord(
            node: "envoy-1", typeURL: TypeURL.cluster, acceptedVersion: "v1", rejectedVersion: "v2",
            rejectedNonce: rejected.nonce, message: "invalid cluster bad")))
        #expect(state.responses(for: v2).isEmpty, "no resend loop")
        // The publisher drops the bad cluster: Envoy is told it is gone.
        let v3 = try Self.snapshot("v3", clusters: ["a"])
        let fixed = try only(state.responses(for: v3))
        #expect(fixed.removedResources == ["bad"])
    }

    @Test func requestWithoutTypeIsInvalid() {
        var state = DeltaStreamState(node: "envoy-1")
        #expect(state.handle(Self.request("")) == .invalid)
    }
}
