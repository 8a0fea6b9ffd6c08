import EnvoyGRPC
import EnvoyProtos
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle
import Testing

@testable import APKXDS

@Suite struct XDSServerServiceTests {
    /// Over real HTTP/2 on a free loopback port: one CDS request is answered, then graceful shutdown ends `run()`.
    @Test func servesADSOverTCPAndStopsOnGracefulShutdown() async throws {
        let cache = SnapshotCache()
        cache.setSnapshot(node: "envoy-1", snapshot: try Fixtures.snapshot(version: "v1", clusters: ["a"]))
        let logger = Logger(label: "test")
        let xds = XDSServerService(
            host: "127.0.0.1", port: 0, services: [ADSService(cache: cache, logger: logger)])
        let group = ServiceGroup(services: [xds], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try #require(await xds.listeningPort())
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            let response = try await withGRPCClient(transport: transport) { grpcClient in
                let client = Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client(wrapping: grpcClient)
                return try await client.streamAggregatedResources { writer in
                    try await writer.write(Fixtures.request(TypeURL.cluster))
                } onResponse: { response in
                    var iterator = response.messages.makeAsyncIterator()
                    return try await iterator.next()
                }
            }
            #expect(response?.versionInfo == "v1")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
