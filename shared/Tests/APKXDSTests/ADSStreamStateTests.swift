import EnvoyProtos
import Testing

@testable import APKXDS

@Suite struct ADSStreamStateTests {
    /// Unwraps a `.respond` outcome.
    func response(_ outcome: ADSStreamState.Outcome) throws -> Envoy_Service_Discovery_V3_DiscoveryResponse {
        guard case .respond(let response) = outcome else {
            Issue.record("expected a response, got \(outcome)")
            throw CancellationError()
        }
        return response
    }

    let v1: Snapshot
    let v2: Snapshot
    let v3: Snapshot

    init() throws {
        v1 = try Fixtures.snapshot(version: "v1", clusters: ["a", "b"], routes: ["r1": ["a"], "r2": ["b"]])
        v2 = try Fixtures.snapshot(version: "v2", clusters: ["a", "b", "c"], routes: ["r1": ["a"], "r2": ["b"]])
        v3 = try Fixtures.snapshot(version: "v3", clusters: ["a", "b", "c", "d"], routes: ["r1": ["a"], "r2": ["b"]])
    }

    @Test func firstRequestGetsFullSet() throws {
        var state = ADSStreamState(node: "envoy-1")
        let sent = try response(state.handle(Fixtures.request(), snapshot: v1))
        #expect(sent.typeURL == TypeURL.cluster)
        #expect(sent.versionInfo == "v1")
        #expect(!sent.nonce.isEmpty)
        #expect(sent.resources.count == 2)
        #expect(state.lastNonce(ofType: TypeURL.cluster) == sent.nonce)
    }

    @Test func firstRequestWithoutSnapshotWaitsThenSnapshotAnswers() throws {
        var state = ADSStreamState(node: "envoy-1")
        #expect(state.handle(Fixtures.request(), snapshot: nil) == .waiting)
        let responses = state.snapshotChanged(v1)
        #expect(responses.map(\.versionInfo) == ["v1"])
    }

    @Test func ackIsNotAnswered() throws {
        var state = ADSStreamState(node: "envoy-1")
        let sent = try response(state.handle(Fixtures.request(), snapshot: v1))
        #expect(state.handle(Fixtures.request(version: "v1", nonce: sent.nonce), snapshot: v1) == .ack(version: "v1"))
        #expect(state.ackedVersion(ofType: TypeURL.cluster) == "v1")
    }

    @Test func nackIsRecordedAndSameVersionIsNotResent() throws {
        var state = ADSStreamState(node: "envoy-1")
        let first = try response(state.handle(Fixtures.request(), snapshot: v1))
        _ = state.handle(Fixtures.request(version: "v1", nonce: first.nonce), snapshot: v1)
        let second = try #require(state.snapshotChanged(v2).first)
        let outcome = state.handle(Fixtures.request(version: "v1", nonce: second.nonce, error: "bad cluster"), snapshot: v2)
        let expected = NACKRecord(
            node: "envoy-1", typeURL: TypeURL.cluster, acceptedVersion: "v1", rejectedVersion: "v2",
            rejectedNonce: second.nonce, message: "bad cluster")
        #expect(outcome == .nack(expected))
        // The same version published again resends nothing.
        #expect(state.snapshotChanged(v2).isEmpty)
    }

    @Test func nackThenNewerVersionIsSent() throws {
        var state = ADSStreamState(node: "envoy-1")
        let first = try response(state.handle(Fixtures.request(), snapshot: v1))
        guard case .nack = state.handle(Fixtures.request(nonce: first.nonce, error: "no"), snapshot: v1) else {
            Issue.record("expected NACK")
            return
        }
        let responses = state.snapshotChanged(v2)
        #expect(responses.map(\.versionInfo) == ["v2"])
        #expect(responses.first?.nonce != first.nonce)
    }

    @Test func staleNonceIsIgnored() throws {
        var state = ADSStreamState(node: "envoy-1")
        let first = try response(state.handle(Fixtures.request(), snapshot: v1))
        #expect(state.handle(Fixtures.request(version: "v1", nonce: first.nonce), snapshot: v1) == .ack(version: "v1"))
        let second = try #require(state.snapshotChanged(v2).first)
        #expect(second.nonce != first.nonce)
        // A late duplicate of the first ACK arrives after the second response was sent.
        #expect(state.handle(Fixtures.request(version: "v1", nonce: first.nonce), snapshot: v2) == .stale)
        #expect(state.handle(Fixtures.request(version: "v2", nonce: second.nonce), snapshot: v2) == .ack(version: "v2"))
    }

    @Test func oneResponseOutstandingPerTypeAndOnlyTheNewestAfterIt() throws {
        var state = ADSStreamState(node: "envoy-1")
        let first = try response(state.handle(Fixtures.request(), snapshot: v1))
        // A burst while Envoy has not answered: nothing is sent (Envoy would rebuild for each one).
        #expect(state.snapshotChanged(v2).isEmpty)
        #expect(state.snapshotChanged(v3).isEmpty)
        // The ACK of v1 frees the type: the newest version goes out, not v2.
        let newest = try response(state.handle(Fixtures.request(version: "v1", nonce: first.nonce), snapshot: v3))
        #expect(newest.versionInfo == "v3" && newest.resources.count == 4)
        #expect(state.snapshotChanged(v3).isEmpty, "v3 is outstanding now")
    }

    @Test func nackFreesTheTypeWithoutResendingTheRejectedVersion() throws {
        var state = ADSStreamState(node: "envoy-1")
        let first = try response(state.handle(Fixtures.request(), snapshot: v1))
        #expect(state.snapshotChanged(v2).isEmpty)
        guard case .nack = state.handle(Fixtures.request(nonce: first.nonce, error: "bad"), snapshot: v1) else {
            Issue.record("expected NACK")
            return
        }
        #expect(state.snapshotChanged(v1).isEmpty, "the rejected version is never resent")
        #expect(state.snapshotChanged(v2).map(\.versionInfo) == ["v2"])
    }

    @Test func resourceNameChangeIsAnsweredWithTheSubset() throws {
        var state = ADSStreamState(node: "envoy-1")
        let first = try response(state.handle(Fixtures.request(TypeURL.route, names: ["r1"]), snapshot: v1))
        #expect(first.resources.count == 1)
        let ack = state.handle(Fixtures.request(TypeURL.route, version: "v1", nonce: first.nonce, names: ["r1"]), snapshot: v1)
        #expect(ack == .ack(version: "v1"))
        let second = try response(state.handle(
            Fixtures.request(TypeURL.route, version: "v1", nonce: first.nonce, names: ["r1", "r2"]), snapshot: v1))
        #expect(second.resources.count == 2)
        #expect(second.versionInfo == "v1")
    }

    @Test func clusterAndListenerAreWildcardEvenWithNames() throws {
        var state = ADSStreamState(node: "envoy-1")
        let sent = try response(state.handle(Fixtures.request(names: ["a"]), snapshot: v1))
        #expect(sent.resources.count == 2)
    }

    @Test func reconnectWithCurrentVersionIsNotResent() throws {
        var state = ADSStreamState(node: "envoy-1")
        #expect(state.handle(Fixtures.request(version: "v1"), snapshot: v1) == .ack(version: "v1"))
        // …but a later version still reaches it.
        #expect(state.snapshotChanged(v2).map(\.versionInfo) == ["v2"])
    }

    @Test func reconnectWithOlderVersionGetsCurrent() throws {
        var state = ADSStreamState(node: "envoy-1")
        let sent = try response(state.handle(Fixtures.request(version: "v1", nonce: "17"), snapshot: v2))
        #expect(sent.versionInfo == "v2")
    }

    @Test func clustersBeforeListenersDoNotBlock() throws {
        var snapshot = v1
        try snapshot.set(TypeURL.listener, version: "v1", [Fixtures.listener("l", rds: "r1")], name: \.name)
        var state = ADSStreamState(node: "envoy-1")
        let cds = try response(state.handle(Fixtures.request(TypeURL.cluster), snapshot: snapshot))
        // LDS requested before CDS is ACKed (Envoy is still warming clusters): answered independently.
        let lds = try response(state.handle(Fixtures.request(TypeURL.listener), snapshot: snapshot))
        #expect(lds.typeURL == TypeURL.listener)
        #expect(lds.nonce != cds.nonce)
        #expect(state.handle(Fixtures.request(version: "v1", nonce: cds.nonce), snapshot: snapshot) == .ack(version: "v1"))
        #expect(state.subscribedTypes == [TypeURL.cluster, TypeURL.listener].sorted())
    }

    @Test func newSnapshotAnswersEverySubscribedTypeThatChanged() throws {
        var state = ADSStreamState(node: "envoy-1")
        let cds = try response(state.handle(Fixtures.request(TypeURL.cluster), snapshot: v1))
        let rds = try response(state.handle(Fixtures.request(TypeURL.route, names: ["r1"]), snapshot: v1))
        _ = state.handle(Fixtures.request(TypeURL.cluster, version: "v1", nonce: cds.nonce), snapshot: v1)
        _ = state.handle(Fixtures.request(TypeURL.route, version: "v1", nonce: rds.nonce, names: ["r1"]), snapshot: v1)
        let responses = state.snapshotChanged(v2)
        #expect(responses.map(\.typeURL) == [TypeURL.cluster, TypeURL.route].sorted())
        #expect(responses.allSatisfy { $0.versionInfo == "v2" })
    }

    @Test func missingTypeIsAnsweredEmpty() throws {
        var state = ADSStreamState(node: "envoy-1")
        let sent = try response(state.handle(Fixtures.request(TypeURL.endpoint), snapshot: v1))
        #expect(sent.resources.isEmpty)
        #expect(state.handle(Fixtures.request(TypeURL.endpoint, nonce: sent.nonce), snapshot: v1) == .ack(version: ""))
    }

    @Test func requestWithoutTypeIsInvalid() {
        var state = ADSStreamState(node: "envoy-1")
        #expect(state.handle(Fixtures.request(""), snapshot: v1) == .invalid)
    }
}
