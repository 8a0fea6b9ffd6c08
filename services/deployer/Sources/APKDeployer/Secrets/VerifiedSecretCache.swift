import APKSupport
import Crypto
import Foundation
import Synchronization

/// Recently verified client credentials, so that repeated correct token requests do not pay the key derivation again.
///
/// An entry is HMAC-SHA256 (a random per-process key) of client id, stored hash and presented secret: it never holds
/// the secret, and it stops matching as soon as the stored hash changes (secret regenerated, client deleted and
/// re-created, hash upgraded). Entries live `ttl`; at most `capacity` are kept (expired ones go first, then the
/// oldest). Only successful verifications are cached.
final class VerifiedSecretCache: Sendable {
    private struct State {
        var expiry: [Data: Date] = [:]
        /// Insertion order, for evicting the oldest entry.
        var order: [Data] = []
    }

    private let key = SymmetricKey(size: .bits256)
    private let state = Mutex(State())
    private let ttl: Duration
    private let capacity: Int

    init(ttl: Duration, capacity: Int) {
        self.ttl = ttl
        self.capacity = max(capacity, 0)
    }

    /// The cache key of one credential.
    func entry(clientID: String, storedHash: String, secret: String) -> Data {
        var mac = HMAC<SHA256>(key: key)
        for field in [clientID, storedHash, secret] {
            let bytes = Array(field.utf8)
            mac.update(data: withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { Array($0) })
            mac.update(data: bytes)
        }
        return Data(mac.finalize())
    }

    /// True when `entry` was verified and has not expired at `now`.
    func contains(_ entry: Data, now: Date) -> Bool {
        state.withLock { state in
            guard let expiry = state.expiry[entry] else { return false }
            guard expiry > now else {
                state.expiry[entry] = nil
                return false
            }
            return true
        }
    }

    /// Remembers `entry` as verified until `now + ttl`.
    func insert(_ entry: Data, now: Date) {
        guard capacity > 0, ttl > .zero else { return }
        state.withLock { state in
            if state.expiry[entry] == nil, state.expiry.count >= capacity {
                state.order.removeAll { state.expiry[$0].map { $0 <= now } ?? true }
                for expired in state.expiry.keys where state.expiry[expired].map({ $0 <= now }) ?? false {
                    state.expiry[expired] = nil
                }
                while state.expiry.count >= capacity, !state.order.isEmpty {
                    state.expiry[state.order.removeFirst()] = nil
                }
            }
            if state.expiry[entry] == nil { state.order.append(entry) }
            state.expiry[entry] = now.addingTimeInterval(ttl.seconds)
            // `order` may hold keys evicted by `contains`; keep it bounded.
            if state.order.count > 2 * capacity { state.order.removeAll { state.expiry[$0] == nil } }
        }
    }

    /// Entries held (tests).
    var count: Int { state.withLock { $0.expiry.count } }
}
