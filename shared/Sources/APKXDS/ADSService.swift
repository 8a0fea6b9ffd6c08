import EnvoyGRPC
package import EnvoyProtos
package import GRPCCore
package import Logging
import Synchronization

/// The state-of-the-world ADS server (`envoy.service.discovery.v3.AggregatedDiscoveryService`) over a
/// ``SnapshotCache``. Delta xDS answers `unimplemented`.
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

    private enum Event: Sendable {
        case request(Envoy_Service_Discovery_V3_DiscoveryRequest)
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

    /// Serves one ADS stream until Envoy closes it or the RPC is cancelled.
    package func streamAggregatedResources(
        request: RPCAsyncSequence<Envoy_Service_Discovery_V3_DiscoveryRequest, any Error>,
        response: RPCWriter<Envoy_Service_Discovery_V3_DiscoveryResponse>,
        context: ServerContext
    ) async throws {
        let (events, sink) = AsyncThrowingStream.makeStream(of: Event.self)
        let latest = LatestSnapshot()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await message in request { sink.yield(.request(message)) }
                    sink.yield(.requestsEnded)
                } catch {
                    sink.finish(throwing: error)
                }
            }
            var state: ADSStreamState?
            var snapshot: Snapshot?
            var logger = self.logger
            for try await event in events {
                switch event {
                case .requestsEnded:
                    group.cancelAll()
                    return
                case .snapshotChanged:
                    guard let newSnapshot = latest.take() else { continue }
                    snapshot = newSnapshot
                    guard var current = state else { continue }
                    for message in current.snapshotChanged(newSnapshot) {
                        try await send(message, on: response, logger: logger)
                    }
                    state = current
                case .request(let message):
                    if state == nil {
                        let node = message.node.id
                        state = ADSStreamState(node: node)
                        logger[metadataKey: "xds.node.id"] = "\(node)"
                        logger.info("ADS stream opened")
                        snapshot = cache.snapshot(node: node)
                        group.addTask {
                            for await update in cache.updates(node: node) where latest.put(update) {
                                sink.yield(.snapshotChanged)
                            }
                        }
                    }
                    guard var current = state else { continue }
                    let outcome = current.handle(message, snapshot: snapshot)
                    // An answer frees its type: a version that arrived while it was outstanding goes out now.
                    let pending = snapshot.map { current.snapshotChanged($0) } ?? []
                    state = current
                    try await apply(outcome, request: message, on: response, logger: logger)
                    for message in pending { try await send(message, on: response, logger: logger) }
                }
            }
            group.cancelAll()
        }
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
            nackLog.record(record)
            XDSMetrics.countNACK(typeURL: record.typeURL)
            onNACK?(record)
            logger.warning(
                "Envoy rejected the configuration",
                metadata: [
                    "xds.version": "\(record.rejectedVersion)", "xds.accepted_version": "\(record.acceptedVersion)",
                    "xds.nonce": "\(record.rejectedNonce)", "xds.error": "\(record.message)",
                ])
        case .stale:
            logger.debug("stale request ignored", metadata: ["xds.nonce": "\(request.responseNonce)"])
        case .waiting:
            logger.debug("no snapshot yet for this node; waiting")
        case .upToDate:
            logger.debug("the client has every requested resource; nothing to send")
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

    /// Delta xDS is not supported yet.
    package func deltaAggregatedResources(
        request: RPCAsyncSequence<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest, any Error>,
        response: RPCWriter<Envoy_Service_Discovery_V3_DeltaDiscoveryResponse>,
        context: ServerContext
    ) async throws {
        throw RPCError(code: .unimplemented, message: "delta xDS is not supported; use state-of-the-world ADS")
    }
}
