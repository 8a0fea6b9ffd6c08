import APKSupport
import EnvoyGRPC
import EnvoyProtos
import GRPCCore
package import Logging
import ServiceLifecycle
import Synchronization

/// A state-of-the-world ADS client for APK's own resource types (the enforcer and the ratelimiter receive their
/// configuration with it from the adapter's ``ADSService``).
///
/// `run()` opens one `StreamAggregatedResources` stream and sends one `DiscoveryRequest` per subscribed type. Each
/// `DiscoveryResponse` of a subscribed type is handed to the handler as an ``Update`` (the complete set of that type at
/// one version); responses are handled one at a time, in order.
/// - **ACK**: the handler returned: the client records the version (``acceptedVersions``) and sends `version_info` =
///   the response's version, `response_nonce` = its nonce.
/// - **NACK**: the handler threw, or a resource's `Any` type URL is not the subscribed one: the client sends the
///   previous accepted version, the response's nonce and `error_detail` (code 13, the error's description); the
///   handler's previous state stays in force. The server records it (``ADSService/nacks``) and does not resend.
/// - Responses for types not subscribed to are ignored (logged, no reply). Undecodable protobuf on the wire fails the
///   stream, which is retried like any other failure; nothing on the wire can crash the client.
/// - **Reconnect**: when the stream fails, the server closes it or goes away, the client waits per ``Backoff``
///   (reset once a new stream is accepted) and opens a new stream on the same transport, sending its last accepted
///   versions so the server resends only types that changed meanwhile.
/// - **Stop**: task cancellation or ServiceLifecycle graceful shutdown ends `run()` promptly, also during back-off.
///   `run()` does not throw.
package final class XDSClient: Service, Sendable {
    /// Applies an update; throwing rejects it (NACK). Called serially, never concurrently with itself.
    package typealias Handler = @Sendable (Update) async throws -> Void

    private typealias Request = Envoy_Service_Discovery_V3_DiscoveryRequest
    private typealias Response = Envoy_Service_Discovery_V3_DiscoveryResponse
    private typealias ADSClient<Transport: ClientTransport> =
        Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client<Transport>

    private let configuration: Configuration
    private let connector: Connector
    private let handler: Handler
    private let logger: Logger
    private let clock: any Clock<Duration>
    private let state: Mutex<XDSClientState>
    private let connection = Mutex(ConnectionStatus())

    /// Where the client's connection stands (for readiness checks, logs and tests).
    package struct ConnectionStatus: Sendable, Equatable {
        /// Whether an ADS stream is open (the server accepted it and it has not ended).
        package var streamOpen = false
        /// Stream attempts that failed or ended since the last accepted stream (each one waited a back-off delay).
        package var consecutiveFailures = 0
    }

    /// Creates a client; nothing happens until ``run()``. `clock` times the back-off.
    package init(
        configuration: Configuration, connector: Connector, logger: Logger,
        clock: any Clock<Duration> = ContinuousClock(), handler: @escaping Handler
    ) {
        self.configuration = configuration
        self.connector = connector
        self.handler = handler
        var logger = logger
        logger[metadataKey: "xds.node.id"] = "\(configuration.nodeID)"
        self.logger = logger
        self.clock = clock
        self.state = Mutex(
            XDSClientState(
                nodeID: configuration.nodeID, cluster: configuration.cluster,
                subscriptions: configuration.subscriptions))
    }

    /// The last version the handler accepted, per type URL (absent until the first ACK of a type).
    package var acceptedVersions: [String: String] { state.withLock { $0.acceptedVersions } }

    /// The current connection status.
    package var connectionStatus: ConnectionStatus { connection.withLock { $0 } }

    /// The last version the handler accepted for one type URL.
    package func acceptedVersion(ofType typeURL: String) -> String? {
        state.withLock { $0.acceptedVersions[typeURL] }
    }

    /// Runs streams, reconnecting with back-off, until the task is cancelled or graceful shutdown begins.
    package func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.runUntilCancelled()
        }
    }

    private func runUntilCancelled() async {
        while !Task.isCancelled {
            do {
                try await runStreams(on: connector.makeTransport())
            } catch {
                guard !Task.isCancelled else { break }
                logger.warning("xDS client transport failed", metadata: ["error.message": "\(error)"])
            }
            guard await waitBeforeRetry() else { break }
        }
        connection.withLock { $0.streamOpen = false }
        logger.info("xDS client stopped")
    }

    /// Opens stream after stream on one transport until cancelled.
    private func runStreams<Transport: ClientTransport>(on transport: Transport) async throws {
        try await withGRPCClient(transport: transport) { grpcClient in
            let ads = ADSClient(wrapping: grpcClient)
            while !Task.isCancelled {
                let end = await runStream(ads)
                connection.withLock { $0.streamOpen = false }
                guard !Task.isCancelled else { return }
                logger.warning(
                    "ADS stream ended; reconnecting",
                    metadata: ["error.message": "\(end.map { "\($0)" } ?? "closed by the server")"])
                guard await waitBeforeRetry() else { return }
            }
        }
    }

    /// One ADS stream: the opening requests, then every response with its ACK or NACK, until the stream ends (the
    /// error that ended it, nil if the server closed it normally).
    private func runStream<Transport: ClientTransport>(_ ads: ADSClient<Transport>) async -> (any Error)? {
        let (requests, sink) = AsyncStream.makeStream(of: Request.self)
        for request in state.withLock({ $0.startStream() }) { sink.yield(request) }
        var options = CallOptions.defaults
        options.waitForReady = false  // fail fast while the server is away; the back-off decides when to retry
        do {
            return try await ads.streamAggregatedResources(options: options) { writer in
                for await request in requests { try await writer.write(request) }
            } onResponse: { response in
                defer { sink.finish() }
                if case .failure(let error) = response.accepted { return error }
                // Accepted: the back-off starts again from its initial delay after this stream ends.
                self.connection.withLock { $0 = ConnectionStatus(streamOpen: true, consecutiveFailures: 0) }
                self.logger.info("ADS stream open")
                do {
                    for try await message in response.messages {
                        await self.process(message, send: sink)
                    }
                    return nil
                } catch {
                    return error
                }
            }
        } catch {
            sink.finish()
            return error
        }
    }

    /// Validates one response, runs the handler and queues the ACK or NACK.
    private func process(_ response: Response, send sink: AsyncStream<Request>.Continuation) async {
        var logger = self.logger
        logger[metadataKey: "xds.type_url"] = "\(response.typeURL)"
        logger[metadataKey: "xds.version"] = "\(response.versionInfo)"
        logger[metadataKey: "xds.nonce"] = "\(response.nonce)"
        switch state.withLock({ $0.receive(response) }) {
        case .ignore(let reason):
            logger.warning("discovery response ignored", metadata: ["xds.reason": "\(reason)"])
        case .reject(let nack, let reason):
            sink.yield(nack)
            XDSMetrics.countClientNACK(typeURL: response.typeURL)
            logger.warning(
                "discovery response rejected (NACK)",
                metadata: ["error.code": "\(reason.code.rawValue)", "error.message": "\(reason.message)"])
        case .deliver(let update):
            do {
                try await handler(update)
            } catch {
                // Shutting down: the handler was interrupted, not the configuration rejected.
                guard !Task.isCancelled else { return }
                sink.yield(state.withLock { $0.reject(update, message: "\(error)") })
                XDSMetrics.countClientNACK(typeURL: update.typeURL)
                logger.warning(
                    "discovery response rejected by the handler (NACK)", metadata: ["error.message": "\(error)"])
                return
            }
            sink.yield(state.withLock { $0.accept(update) })
            logger.debug("discovery response accepted (ACK)", metadata: ["xds.resources": "\(update.resources.count)"])
        }
    }

    /// Counts one more failure and sleeps the back-off delay for it; false once cancelled.
    private func waitBeforeRetry() async -> Bool {
        let failures = connection.withLock { status in
            status.consecutiveFailures = min(status.consecutiveFailures + 1, 1 << 20)
            return status.consecutiveFailures
        }
        let delay = configuration.backoff.delay(attempt: failures - 1, random: Double.random(in: 0..<1))
        XDSMetrics.countClientReconnect()
        do {
            try await clock.sleep(for: delay)
        } catch {
            return false
        }
        return !Task.isCancelled
    }
}
