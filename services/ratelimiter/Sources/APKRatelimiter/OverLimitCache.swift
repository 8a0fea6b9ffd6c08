import Synchronization

/// Counter keys known to have used up their limit, until their window ends: a further hit on such a key is answered
/// `OVER_LIMIT` locally, with no Redis round trip (an abusive client costs no Redis traffic), and is not counted —
/// the counter already says "exhausted" and nobody reads how far beyond.
///
/// Bounded: at `capacity` entries, ended windows are dropped; if that frees less than a tenth, everything is
/// dropped. An entry is only a shortcut, so forgetting one is always safe — the next hit asks Redis again.
package final class OverLimitCache: Sendable {
    private let capacity: Int
    /// Window end (seconds since the epoch) per counter key.
    private let entries = Mutex<[String: Int64]>([:])

    /// A cache of at most `capacity` keys (0 disables it).
    package init(capacity: Int) {
        self.capacity = max(capacity, 0)
    }

    /// True when `key` is exhausted at `unixNanoseconds` (its window has not ended yet).
    package func isExhausted(_ key: String, atUnixNanoseconds now: Int64) -> Bool {
        guard capacity > 0 else { return false }
        return entries.withLock { entries in
            guard let end = entries[key] else { return false }
            if now < end &* 1_000_000_000 { return true }
            entries[key] = nil
            return false
        }
    }

    /// Records that `key` is exhausted until `windowEnd` (seconds since the epoch).
    package func markExhausted(_ key: String, untilUnixSecond windowEnd: Int64, atUnixNanoseconds now: Int64) {
        guard capacity > 0 else { return }
        entries.withLock { entries in
            if entries.count >= capacity, entries[key] == nil {
                let second = now / 1_000_000_000
                entries = entries.filter { $0.value > second }
                if entries.count >= capacity - capacity / 10 { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = windowEnd
        }
    }

    /// Keys held now (ended windows included until they are dropped).
    package var count: Int { entries.withLock { $0.count } }
}
