package import APKStore
import Foundation
package import Logging
import Metrics
import Synchronization

/// Writes API statuses off the control loop, so that publishing to Envoy never waits for the database: after a
/// bulk change (start-up with 10,000 APIs, a relist) thousands of statuses are due while new deploys keep coming.
///
/// Submissions are coalesced per API (the newest status wins) and written in batches of up to ``batchSize``, each
/// one store transaction. Best effort: a failed batch is logged and dropped — the API's next change or the next
/// adapter start writes it again (``GatewayState`` reports a status whenever the stored one differs).
package final class StatusWriter: Sendable {
    package static let batchSize = 200

    private let store: any ResourceStore
    private let namespace: String
    private let logger: Logger
    private let pending = Mutex<[String: APIStatus]>([:])
    private let wake: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)
    private let written = Atomic<Int>(0)

    package init(store: any ResourceStore, namespace: String, logger: Logger) {
        self.store = store
        self.namespace = namespace
        self.logger = logger
        self.wake = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues statuses (API name → status); returns at once.
    package func submit(_ statuses: [String: APIStatus]) {
        guard !statuses.isEmpty else { return }
        pending.withLock { $0.merge(statuses) { $1 } }
        wake.continuation.yield()
    }

    /// Statuses queued and not yet written.
    package var backlog: Int { pending.withLock { $0.count } }

    /// Statuses written so far.
    package var writtenCount: Int { written.load(ordering: .relaxed) }

    /// Writes until cancelled (or ``finish()``ed and drained).
    package func run() async {
        for await _ in wake.stream {
            while !Task.isCancelled, let batch = takeBatch() {
                await write(batch)
            }
        }
        while !Task.isCancelled, let batch = takeBatch() {  // finished: drain
            await write(batch)
        }
    }

    /// Ends ``run()`` once what is queued has been written.
    package func finish() { wake.continuation.finish() }

    private func takeBatch() -> [(String, APIStatus)]? {
        pending.withLock { pending in
            guard !pending.isEmpty else { return nil }
            let names = pending.keys.sorted().prefix(Self.batchSize)
            return names.map { name in (name, pending.removeValue(forKey: name)!) }
        }
    }

    private func write(_ batch: [(String, APIStatus)]) async {
        let now = Date()
        let updates = batch.map { name, status in
            (key: ResourceKey(kind: "API", namespace: namespace, name: name), status: status.document(at: now))
        }
        do {
            _ = try await store.updateStatuses(updates)
            written.add(batch.count, ordering: .relaxed)
            Counter(label: "apk_adapter_status_writes_total").increment(by: batch.count)
        } catch {
            Counter(label: "apk_adapter_status_write_failures_total").increment(by: batch.count)
            logger.warning(
                "could not write API statuses",
                metadata: ["apis": "\(batch.count)", "first.api.id": "\(batch[0].0)", "error.description": "\(error)"])
        }
    }
}
