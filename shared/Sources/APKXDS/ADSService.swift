import EnvoyGRPC
package import EnvoyProtos
package import GRPCCore
package import Logging
import Synchronization

/// The ADS server (`envoy.service.discovery.v3.AggregatedDiscoveryService`) over a ``SnapshotCache``: both
/// state-of-the-world (``ADSStreamState``) and incremental (``DeltaStreamState``; the router's bootstrap uses it).
package struct ADSService: Envoy_Service_Discovery_V3_AggregatedDiscoveryService.SimpleServiceProtocol {
    private let cache: SnapshotCache
    private let nackLog: NACKLog
    private let logger: Logger
    private let onNACK: (@Sendable (NACKRecord) -> Void)?

    /// Creates the service; `nackLog` collects the NACKs of every stream, and `onNACK` (if set) is called for each
    /// one as it arrives (the adapter uses it to find and set aside the API Envoy rejected).
    package init(
        cache: SnapshotCache, nackLog: NACKLog = NACKLog(), logger: Logger,
        onNACK: (@Sendable (NACKRecord) -> Void)? = nil
    ) {
        self.cache = cache
        self.nackLog = nackLog
        self.logger = logger
        self.onNACK = onNACK
    }

    /// The latest NACK per node and type (for API status).
    package var nacks: [NACKRecord] { nackLog.all }

    private enum Event<Request: Sendable>: Sendable {
        case request(Request)
        /// A newer snapshot is in the stream's ``LatestSnapshot``.
        case snapshotChanged
        case requestsEnded
    }

    /// The newest snapshot the stream has not picked up yet: a burst of publications while the stream is busy
    /// (writing to a slow Envoy) collapses into one, instead of queueing every intermediate snapshot.
    private final class LatestSnapshot: Sendable {
        private let slot = Mutex<Snapshot?>(nil)

        /// Stores `snapshot`; true when the slot was empty (the stream needs a wake-up).
        func put(_ snapshot: Snapshot) -> Bool {
            slot.withLock { slot in
                defer { slot = snapshot }
                return slot == nil
            }
        }

        func take() -> Snapshot? {
            slot.withLock { slot in
                defer { slot = nil }
                return slot
            }
        }
    }

    /// Runs one stream (either protocol): requests and the node's newer snapshots, one at a time, until Envoy
    /// closes the stream or the RPC is cancelled. The first request names the node, which selects the snapshots and
    /// creates the stream's state. After each request (an answer may free a type whose newer version waited) and
    /// each newer snapshot, whatever the state says is due goes out.
    private func serve<State: ADSProtocolState, Request: Sendable>(
        _ requests: RPCAsyncSequence<Request, any Error>,
        as _: State.Type,
        protocol name: String,
        node nodeOf: @escaping @Sendable (Request) -> String,
        handle: (_ state: inout State, _ request: Request, _ snapshot: Snapshot?, _ logger: Logger) async throws -> Void,
        send: (_ response: State.Response, _ logger: Logger) async throws -> Void
    ) async throws {
        let (events, sink) = AsyncThrowingStream.makeStream(of: Event<Request>.self)
        let latest = LatestSnapshot()
        let cache = self.cache
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await message in requests { sink.yield(.request(message)) }
                    sink.yield(.requestsEnded)
                } catch {
                    sink.finish(throwing: error)
                }
            }
            var state: State?
            var snapshot: Snapshot?
            var logger = self.logger
            for try await event in events {
                var current: State
                switch event {
                case .requestsEnded:
                    group.cancelAll()
                    return
                case .snapshotChanged:
                    guard let newSnapshot = latest.take(), let existing = state else { continue }
                    snapshot = newSnapshot
                    current = existing
                case .request(let message):
                    if let existing = state {
                        current = existing
                    } else {
                        let node = nodeOf(message)
                        current = State(node: node)
                        logger[metadataKey: "xds.node.id"] = "\(node)"
                        logger.info("ADS stream opened", metadata: ["xds.protocol": "\(name)"])
                        snapshot = cache.snapshot(node: node)
                        group.addTask {
                            for await update in cache.updates(node: node) where latest.put(update) {
                                sink.yield(.snapshotChanged)
                            }
                        }
                    }
                    try await handle(&current, message, snapshot, logger)
                }
                let due = snapshot.map { current.responses(for: $0) } ?? []
                state = current
                for response in due { try await send(response, logger) }
            }
            group.cancelAll()
        }
    }

    /// Serves one state-of-the-world ADS stream until Envoy closes it or the RPC is cancelled.
    package func streamAggregatedResources(
        request: RPCAsyncSequence<Envoy_Service_Discovery_V3_DiscoveryRequest, any Error>,
        response: RPCWriter<Envoy_Service_Discovery_V3_DiscoveryResponse>,
        context: ServerContext
    ) async throws {
        try await serve(
            request, as: ADSStreamState.self, protocol: "state-of-the-world", node: { $0.node.id },
            handle: { state, message, snapshot, logger in
                let outcome = state.handle(message, snapshot: snapshot)
                try await apply(outcome, request: message, on: response, logger: logger)
            },
            send: { message, logger in try await send(message, on: response, logger: logger) })
    }

    /// Serves one incremental (delta) ADS stream until Envoy closes it or the RPC is cancelled.
    package func deltaAggregatedResources(
        request: RPCAsyncSequence<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest, any Error>,
        response: RPCWriter<Envoy_Service_Discovery_V3_DeltaDiscoveryResponse>,
        context: ServerContext
    ) async throws {
        try await serve(
            request, as: DeltaStreamState.self, protocol: "delta", node: { $0.node.id },
            handle: { state, message, _, logger in
                var logger = logger
                logger[metadataKey: "xds.type_url"] = "\(message.typeURL)"
                switch state.handle(message) {
                case .ack(let version):
                    nackLog.clear(node: state.node, typeURL: message.typeURL)
                    logger.debug("ACK", metadata: ["xds.version": "\(version)"])
                case .nack(let record):
                    recordNACK(record, logger: logger)
                case .stale:
                    logger.debug("stale answer ignored", metadata: ["xds.nonce": "\(message.responseNonce)"])
                case .subscription:
                    logger.debug(
                        "subscription", metadata: ["xds.subscribe": "\(message.resourceNamesSubscribe.count)",
                                                   "xds.unsubscribe": "\(message.resourceNamesUnsubscribe.count)"])
                case .invalid:
                    logger.debug("request without type URL ignored")
                }
            },
            send: { message, logger in try await send(message, on: response, logger: logger) })
    }

    private func apply(
        _ outcome: ADSStreamState.Outcome,
        request: Envoy_Service_Discovery_V3_DiscoveryRequest,
        on writer: RPCWriter<Envoy_Service_Discovery_V3_DiscoveryResponse>,
        logger: Logger
    ) async throws {
        var logger = logger
        logger[metadataKey: "xds.type_url"] = "\(request.typeURL)"
        switch outcome {
        case .respond(let message):
            try await send(message, on: writer, logger: logger)
        case .ack(let version):
            nackLog.clear(node: request.node.id, typeURL: request.typeURL)
            logger.debug("ACK", metadata: ["xds.version": "\(version)"])
        case .nack(let record):
            recordNACK(record, logger: logger)
        case .stale:
            logger.debug("stale request ignored", metadata: ["xds.nonce": "\(request.responseNonce)"])
        case .waiting:
            logger.debug("no snapshot yet for this node; waiting")
        case .invalid:
            logger.debug("request without type URL ignored")
        }
    }

    private func send(
        _ message: Envoy_Service_Discovery_V3_DiscoveryResponse,
        on writer: RPCWriter<Envoy_Service_Discovery_V3_DiscoveryResponse>,
        logger: Logger
    ) async throws {
        try await writer.write(message)
        logger.debug(
            "sent discovery response",
            metadata: [
                "xds.type_url": "\(message.typeURL)", "xds.version": "\(message.versionInfo)",
                "xds.nonce": "\(message.nonce)", "xds.resources": "\(message.resources.count)",
            ])
    }

    private func recordNACK(_ record: NACKRecord, logger: Logger) {
        nackLog.record(record)
        XDSMetrics.countNACK(typeURL: record.typeURL)
        onNACK?(record)
        logger.warning(
            "Envoy rejected the configuration",
            metadata: [
                "xds.version": "\(record.rejectedVersion)", "xds.accepted_version": "\(record.acceptedVersion)",
                "xds.nonce": "\(record.rejectedNonce)", "xds.error": "\(record.message)",
            ])
    }

    private func send(
        _ message: Envoy_Service_Discovery_V3_DeltaDiscoveryResponse,
        on writer: RPCWriter<Envoy_Service_Discovery_V3_DeltaDiscoveryResponse>,
        logger: Logger
    ) async throws {
        try await writer.write(message)
        logger.debug(
            "sent delta discovery response",
            metadata: [
                "xds.type_url": "\(message.typeURL)", "xds.version": "\(message.systemVersionInfo)",
                "xds.nonce": "\(message.nonce)", "xds.resources": "\(message.resources.count)",
                "xds.removed": "\(message.removedResources.count)",
            ])
    }
}

/// What the shared stream loop of ``ADSService`` needs from a protocol's per-stream state.
protocol ADSProtocolState: Sendable {
    associatedtype Response: Sendable
    init(node: String)
    /// The responses due now for `snapshot`: subscribed types without a response outstanding whose client lacks
    /// something of it.
    mutating func responses(for snapshot: Snapshot) -> [Response]
}

extension ADSStreamState: ADSProtocolState {
    mutating func responses(for snapshot: Snapshot) -> [Envoy_Service_Discovery_V3_DiscoveryResponse] {
        snapshotChanged(snapshot)
    }
}

extension DeltaStreamState: ADSProtocolState {}
