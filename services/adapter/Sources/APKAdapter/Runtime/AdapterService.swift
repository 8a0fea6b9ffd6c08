package import APKStore
package import APKSupport
package import APKXDS
package import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// The adapter's control loop (provider → translators → publisher): lists the namespace, publishes the first
/// snapshot, then follows the store's change feed from the list's cursor, batching every event that is already
/// there into one rebuild. Also reacts to NACKs (``GatewayState/rejected(_:)``) and writes API status.
///
/// Store outages: the loop keeps its state and cursor, retries with back-off and resumes exactly where it was
/// (the change feed is gap-free); Envoy keeps serving the last snapshot meanwhile.
package final class AdapterService: Service, Sendable {
    package let store: any ResourceStore
    package let cache: SnapshotCache
    package let nodeID: String
    /// Node ids served the APK discovery snapshot (token issuers) of ``GatewayState/Update/services``.
    package let serviceNodeIDs: [String]
    private let initial: GatewayState
    private let logger: Logger
    private let nackInbox: (stream: AsyncStream<NACKRecord>, continuation: AsyncStream<NACKRecord>.Continuation)
    private let readyFlag = Atomic<Bool>(false)
    private let stats = Mutex(Stats())
    private let statusWriter: StatusWriter
    private let backoff: Backoff

    /// Counters for ops and tests.
    package struct Stats: Sendable {
        package var apis = 0
        package var served = 0
        package var quarantined = 0
        package var cursor: Int64 = 0
        package var snapshotsPublished = 0
    }

    /// `backoff` paces retries while the store is unavailable (1 s doubling to 30 s, jittered, by default).
    package init(
        store: any ResourceStore, cache: SnapshotCache, nodeID: String, serviceNodeIDs: [String] = [],
        state: GatewayState, logger: Logger, backoff: Backoff = Backoff(initial: .seconds(1), max: .seconds(30))
    ) {
        self.serviceNodeIDs = serviceNodeIDs
        self.store = store
        self.backoff = backoff
        self.cache = cache
        self.nodeID = nodeID
        self.initial = state
        self.logger = logger
        self.nackInbox = AsyncStream.makeStream(of: NACKRecord.self, bufferingPolicy: .bufferingNewest(64))
        self.statusWriter = StatusWriter(store: store, namespace: state.namespace, logger: logger)
    }

    /// True once the first snapshot is published (the `/ready` of the ops server).
    package var isReady: Bool { readyFlag.load(ordering: .acquiring) }

    package var currentStats: Stats { stats.withLock { $0 } }

    /// Hands a NACK from the ADS server to the loop (``ADSService``'s `onNACK`).
    package func nackReceived(_ record: NACKRecord) {
        nackInbox.continuation.yield(record)
    }

    /// What the loop has not handled yet; ``rounds`` yields (coalesced) when something arrived.
    private final class Inbox: Sendable {
        private let queued = Mutex<(events: [ResourceEvent], nacks: [NACKRecord])>(([], []))
        private let wake = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))

        var rounds: AsyncStream<Void> { wake.stream }

        func add(events: [ResourceEvent]) {
            queued.withLock { $0.events.append(contentsOf: events) }
            wake.continuation.yield()
        }

        func add(nack: NACKRecord) {
            queued.withLock { $0.nacks.append(nack) }
            wake.continuation.yield()
        }

        func take() -> (events: [ResourceEvent], nacks: [NACKRecord]) {
            queued.withLock { queued in
                defer { queued = ([], []) }
                return queued
            }
        }

        func finish() { wake.continuation.finish() }
    }

    package func run() async throws {
        var state = initial
        guard let snapshot = await cancelWhenGracefulShutdown({ await self.listWithRetry() }) else {
            return  // shut down before the store was ever reachable
        }
        let started = ContinuousClock.now
        handle(state.load(snapshot), state: state)
        logger.info(
            "initial snapshot published",
            metadata: [
                "apis": "\(state.apiCount)", "served": "\(state.servedCount)", "store.cursor": "\(state.cursor)",
                "duration": "\(ContinuousClock.now - started)",
            ])
        readyFlag.store(true, ordering: .releasing)

        let inbox = Inbox()
        let startCursor = state.cursor
        await withTaskGroup(of: Void.self) { writerGroup in
            writerGroup.addTask { await self.statusWriter.run() }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.followStore(from: startCursor, into: inbox) }
                group.addTask {
                    for await record in self.nackInbox.stream { inbox.add(nack: record) }
                }
                group.addTask {
                    try? await gracefulShutdown()
                    inbox.finish()
                }
                // Everything that arrived while the previous round was translating is one round: under a burst
                // (a bulk import, a relist) the O(all APIs) snapshot assembly runs once per round, not per event.
                for await _ in inbox.rounds {
                    let (events, nacks) = inbox.take()
                    if !events.isEmpty {
                        let started = ContinuousClock.now
                        let update = state.apply(events)
                        Metrics.Timer(label: "apk_adapter_update_seconds").record(duration: ContinuousClock.now - started)
                        handle(update, state: state)
                    }
                    for record in nacks {
                        guard let update = state.rejected(record) else {
                            logger.warning(
                                "router rejected a configuration no API can be blamed for",
                                metadata: ["xds.type_url": "\(record.typeURL)", "xds.error": "\(record.message)"])
                            continue
                        }
                        logger.warning(
                            "router rejected APIs; they are left out until they change",
                            metadata: ["apis": "\(update.statuses.keys.sorted())", "xds.error": "\(record.message)"])
                        handle(update, state: state)
                    }
                }
                group.cancelAll()
            }
            // Shutting down: give queued statuses a moment (they are best effort; the next start writes what is left).
            statusWriter.finish()
            writerGroup.addTask { try? await Task.sleep(for: .seconds(2)) }
            _ = await writerGroup.next()
            writerGroup.cancelAll()
        }
    }

    /// Lists the namespace, retrying per ``backoff`` while the store is unavailable; nil when cancelled first.
    private func listWithRetry() async -> ResourceSnapshot? {
        let watcher = ResourceWatcher(store: store)
        return await backoff.retry(
            onFailure: { error, _, wait in
                logger.warning(
                    "resource store unavailable; retrying",
                    metadata: ["error.description": "\(error)", "retry.after": "\(wait)"])
            },
            { try await watcher.snapshot(namespace: initial.namespace) })
    }

    /// Reads the change feed after `cursor` and yields batches; parks in `waitForEvents` when caught up. Store
    /// failures are retried per ``backoff`` (the count restarts after a success).
    private func followStore(from cursor: Int64, into inbox: Inbox) async {
        var cursor = cursor
        var failures = 0
        while !Task.isCancelled {
            do {
                let events = try await store.events(after: cursor, limit: 1000)
                failures = 0
                if let last = events.last {
                    cursor = last.cursor
                    Counter(label: "apk_adapter_store_events_total").increment(by: events.count)
                    inbox.add(events: events)
                } else {
                    try await store.waitForEvents(after: cursor, timeout: .seconds(30))
                }
            } catch {
                if Task.isCancelled { return }
                let wait = backoff.delay(attempt: failures, random: Double.random(in: 0..<1))
                failures += 1
                logger.warning(
                    "resource store unavailable; the router keeps its configuration",
                    metadata: ["error.description": "\(error)", "retry.after": "\(wait)", "store.cursor": "\(cursor)"])
                try? await Task.sleep(for: wait)
            }
        }
    }

    private func handle(_ update: GatewayState.Update, state: GatewayState) {
        if let services = update.services {
            for node in serviceNodeIDs { cache.setSnapshot(node: node, snapshot: services) }
        }
        if let snapshot = update.snapshot {
            cache.setSnapshot(node: nodeID, snapshot: snapshot)
            logger.debug(
                "snapshot published",
                metadata: [
                    "xds.version.scopes": "\(snapshot.version(ofType: TypeURL.scopedRoute))",
                    "xds.version.clusters": "\(snapshot.version(ofType: TypeURL.cluster))",
                ])
        }
        stats.withLock {
            $0.apis = state.apiCount
            $0.served = state.servedCount
            $0.quarantined = state.quarantined.count
            $0.cursor = state.cursor
            if update.snapshot != nil { $0.snapshotsPublished += 1 }
        }
        Gauge(label: "apk_adapter_apis").record(state.apiCount)
        Gauge(label: "apk_adapter_apis_served").record(state.servedCount)
        Gauge(label: "apk_adapter_apis_rejected").record(state.quarantined.count)
        if update.snapshot != nil { Counter(label: "apk_adapter_snapshots_total").increment() }
        // ``GatewayState`` only reports statuses that differ from the stored ones; the writer works off the loop.
        statusWriter.submit(update.statuses)
        Gauge(label: "apk_adapter_status_backlog").record(statusWriter.backlog)
    }
}
