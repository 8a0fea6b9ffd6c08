import EnvoyGRPC
import EnvoyProtos
import GRPCCore
import GRPCInProcessTransport
import Logging
import Testing

@testable import APKXDS

@Suite struct ADSServiceTests {
    typealias Request = Envoy_Service_Discovery_V3_DiscoveryRequest
    typealias Response = Envoy_Service_Discovery_V3_DiscoveryResponse

    static func snapshot(_ version: String, clusters: [String]) throws -> Snapshot {
        var snapshot = try Fixtures.snapshot(version: version, clusters: clusters, routes: ["r1": clusters])
        try snapshot.set(TypeURL.listener, version: version, [Fixtures.listener("l1", rds: "r1")], name: \.name)
        return snapshot
    }

    /// Runs an in-process ADS server and one client stream; `script` sends with `send` and reads `responses`.
    static func withADSStream(
        cache: SnapshotCache, service: ADSService,
        script: @escaping @Sendable (
            _ send: @escaping @Sendable (Request) -> Void,
            _ responses: inout RPCAsyncSequence<Response, any Error>.AsyncIterator
        ) async throws -> Void
    ) async throws {
        let transport = InProcessTransport()
        let server = GRPCServer(transport: transport.server, services: [service])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            try await withGRPCClient(transport: transport.client) { grpcClient in
                let client = Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client(wrapping: grpcClient)
                let (requests, sink) = AsyncStream.makeStream(of: Request.self)
                try await client.streamAggregatedResources { writer in
                    for await request in requests { try await writer.write(request) }
                } onResponse: { response in
                    var iterator = response.messages.makeAsyncIterator()
                    try await script({ sink.yield($0) }, &iterator)
                    sink.finish()
                }
            }
            server.beginGracefulShutdown()
            try await group.waitForAll()
        }
    }

    @Test func requestAckNackAndNextVersion() async throws {
        let cache = SnapshotCache()
        cache.setSnapshot(node: "envoy-1", snapshot: try Self.snapshot("v1", clusters: ["a"]))
        let service = ADSService(cache: cache, logger: Logger(label: "test"))
        try await Self.withADSStream(cache: cache, service: service) { send, responses in
            send(Fixtures.request(TypeURL.cluster))
            let first = try #require(try await responses.next())
            #expect(first.typeURL == TypeURL.cluster && first.versionInfo == "v1" && first.resources.count == 1)

            // ACK: no reply. Responses are ordered, so the next one answers the RDS request sent after it.
            send(Fixtures.request(TypeURL.cluster, version: "v1", nonce: first.nonce))
            send(Fixtures.request(TypeURL.route, names: ["r1"]))
            let rds = try #require(try await responses.next())
            #expect(rds.typeURL == TypeURL.route)
            // ACK it too: a type's next version goes out only once its previous response is answered.
            send(Fixtures.request(TypeURL.route, version: rds.versionInfo, nonce: rds.nonce, names: ["r1"]))

            // A newer version is pushed; Envoy NACKs it: recorded, not resent.
            cache.setSnapshot(node: "envoy-1", snapshot: try Self.snapshot("v2", clusters: ["a", "b"]))
            var pushed: [String: Response] = [:]
            while pushed.count < 2, let next = try await responses.next() { pushed[next.typeURL] = next }
            let cds2 = try #require(pushed[TypeURL.cluster])
            #expect(cds2.versionInfo == "v2" && cds2.resources.count == 2)
            send(Fixtures.request(TypeURL.cluster, version: "v1", nonce: cds2.nonce, error: "rejected b"))
            send(Fixtures.request(TypeURL.listener))
            let lds = try #require(try await responses.next())
            #expect(lds.typeURL == TypeURL.listener)
            #expect(service.nacks.map(\.message) == ["rejected b"])
            #expect(service.nacks.first?.rejectedVersion == "v2")

            // The next version is sent.
            cache.setSnapshot(node: "envoy-1", snapshot: try Self.snapshot("v3", clusters: ["a"]))
            var cds3: Response?
            while cds3 == nil, let next = try await responses.next() {
                if next.typeURL == TypeURL.cluster { cds3 = next }
            }
            #expect(cds3?.versionInfo == "v3")
        }
    }

    @Test func aBurstWhileEnvoyIsBusyIsSentOnceAsTheNewestVersion() async throws {
        let cache = SnapshotCache()
        cache.setSnapshot(node: "envoy-1", snapshot: try Self.snapshot("v1", clusters: ["a"]))
        let service = ADSService(cache: cache, logger: Logger(label: "test"))
        try await Self.withADSStream(cache: cache, service: service) { send, responses in
            send(Fixtures.request(TypeURL.cluster))
            let first = try #require(try await responses.next())
            #expect(first.versionInfo == "v1")
            // Envoy is still applying v1: three more versions are published, none is sent yet.
            for version in ["v2", "v3", "v4"] {
                cache.setSnapshot(node: "envoy-1", snapshot: try Self.snapshot(version, clusters: ["a", version]))
            }
            // The ACK of v1 frees the type: the next response is v4, and it is the only one.
            send(Fixtures.request(TypeURL.cluster, version: "v1", nonce: first.nonce))
            let next = try #require(try await responses.next())
            #expect(next.versionInfo == "v4")
            #expect(next.resources.count == 2)
            // Nothing else is pending: a listener request is answered next, not an intermediate cluster version.
            send(Fixtures.request(TypeURL.cluster, version: "v4", nonce: next.nonce))
            send(Fixtures.request(TypeURL.listener))
            let lds = try #require(try await responses.next())
            #expect(lds.typeURL == TypeURL.listener)
        }
    }

    @Test func deltaStreamSendsChangesAndRecordsNACKs() async throws {
        typealias DeltaRequest = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest
        let cache = SnapshotCache()
        cache.setSnapshot(node: "envoy-1", snapshot: try Self.snapshot("v1", clusters: ["a"]))
        let rejected = NACKLog()
        let service = ADSService(cache: cache, nackLog: rejected, logger: Logger(label: "test"))
        let transport = InProcessTransport()
        let server = GRPCServer(transport: transport.server, services: [service])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            try await withGRPCClient(transport: transport.client) { grpcClient in
                let client = Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client(wrapping: grpcClient)
                let (requests, sink) = AsyncStream.makeStream(of: DeltaRequest.self)
                try await client.deltaAggregatedResources { writer in
                    for await request in requests { try await writer.write(request) }
                } onResponse: { response in
                    var responses = response.messages.makeAsyncIterator()
                    sink.yield(DeltaStreamStateTests.request())
                    let first = try #require(try await responses.next())
                    #expect(first.typeURL == TypeURL.cluster && first.resources.map(\.name) == ["a"])
                    sink.yield(DeltaStreamStateTests.request(nonce: first.nonce))
                    // A new cluster: only it is sent.
                    cache.setSnapshot(node: "envoy-1", snapshot: try Self.snapshot("v2", clusters: ["a", "b"]))
                    let second = try #require(try await responses.next())
                    #expect(second.resources.map(\.name) == ["b"] && second.systemVersionInfo == "v2")
                    sink.yield(DeltaStreamStateTests.request(nonce: second.nonce, error: "rejected b"))
                    // The NACK is recorded before the next request is handled: a listener subscription answers.
                    sink.yield(DeltaStreamStateTests.request(TypeURL.listener))
                    let lds = try #require(try await responses.next())
                    #expect(lds.typeURL == TypeURL.listener && lds.resources.map(\.name) == ["l1"])
                    #expect(service.nacks.map(\.message) == ["rejected b"])
                    #expect(service.nacks.first?.acceptedVersion == "v1")
                    #expect(service.nacks.first?.rejectedVersion == "v2")
                    sink.finish()
                }
            }
            server.beginGracefulShutdown()
            try await group.waitForAll()
        }
    }
}
