import Foundation
import Synchronization

/// Versioned snapshots per node id, with push delivery of every new snapshot to the streams of that node.
///
/// `setSnapshot` replaces a node's snapshot and yields it to each subscriber of the node; a subscriber's stream buffers
/// only the newest snapshot, so a slow stream skips intermediate versions instead of queueing them.
package final class SnapshotCache: Sendable {
    private struct State {
        var snapshots: [String: Snapshot] = [:]
        var subscribers: [String: [UUID: AsyncStream<Snapshot>.Continuation]] = [:]
    }

    private let state = Mutex(State())

    /// Creates an empty cache.
    package init() {}

    /// Replaces the snapshot of a node and delivers it to that node's subscribers.
    package func setSnapshot(node: String, snapshot: Snapshot) {
        // Yield under the lock so that two concurrent `setSnapshot` calls reach every subscriber in the same order.
        state.withLock { state in
            state.snapshots[node] = snapshot
            for continuation in (state.subscribers[node] ?? [:]).values {
                continuation.yield(snapshot)
            }
        }
    }

    /// The current snapshot of a node, if one was set.
    package func snapshot(node: String) -> Snapshot? {
        state.withLock { $0.snapshots[node] }
    }

    /// Node ids that have a snapshot.
    package var nodes: [String] {
        state.withLock { Array($0.snapshots.keys) }
    }

    /// Number of live subscriptions for a node (for tests and diagnostics).
    package func subscriberCount(node: String) -> Int {
        state.withLock { $0.subscribers[node]?.count ?? 0 }
    }

    /// A stream of the node's snapshots: the current one first (if any), then every later one. Ends when the
    /// consumer stops iterating (the subscription is removed on termination).
    package func updates(node: String) -> AsyncStream<Snapshot> {
        let (stream, continuation) = AsyncStream.makeStream(of: Snapshot.self, bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        continuation.onTermination = { [weak self] _ in
            self?.removeSubscriber(node: node, id: id)
        }
        state.withLock { state in
            state.subscribers[node, default: [:]][id] = continuation
            if let current = state.snapshots[node] {
                continuation.yield(current)
            }
        }
        return stream
    }

    private func removeSubscriber(node: String, id: UUID) {
        state.withLock { state in
            state.subscribers[node]?[id] = nil
            if state.subscribers[node]?.isEmpty == true {
                state.subscribers[node] = nil
            }
        }
    }
}
