import Synchronization

/// The latest NACK per (node, type URL), for API status; cleared for a type when Envoy ACKs it again.
package final class NACKLog: Sendable {
    private struct Key: Hashable {
        var node: String
        var typeURL: String
    }

    private let records = Mutex<[Key: NACKRecord]>([:])

    /// Creates an empty log.
    package init() {}

    /// Current NACKs, sorted by node then type URL.
    package var all: [NACKRecord] {
        records.withLock { Array($0.values) }.sorted { ($0.node, $0.typeURL) < ($1.node, $1.typeURL) }
    }

    /// Records a NACK, replacing an older one for the same node and type.
    package func record(_ nack: NACKRecord) {
        records.withLock { $0[Key(node: nack.node, typeURL: nack.typeURL)] = nack }
    }

    /// Forgets the NACK of a node and type (Envoy accepted a later version).
    package func clear(node: String, typeURL: String) {
        _ = records.withLock { $0.removeValue(forKey: Key(node: node, typeURL: typeURL)) }
    }
}
