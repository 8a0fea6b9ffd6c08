import APKAuth
import Synchronization

/// Credentials whose signature, issuer and audience already verified against one generation of ``TrustedKeys``, so
/// that a repeated token skips parsing and the signature check, as Envoy's `jwt_authn` does with its JWT cache in
/// `native` mode. The time rules (`exp`, `nbf`) are checked on every use; a new key generation empties the cache (a
/// key that left the key set vouches for nothing any more). Bounded: emptied when full; tokens over 4 KiB are not
/// kept (as in Envoy). Failures are never cached.
package final class VerificationCache: Sendable {
    struct Key: Hashable {
        var token: String
        var pool: TokenPool
        /// The organization issuers the token was judged against (``AuthEvaluator/trustKey(_:)``): a token verified
        /// for one organization's API vouches for nothing at another's.
        var trust: String
    }

    struct Entry: Sendable {
        var token: VerifiedToken
        var expiry: Double
        var notBefore: Double?
    }

    enum Lookup {
        case miss
        case hit(VerifiedToken)
        /// Cached, but outside its validity window now: the reason label.
        case invalid(String)
    }

    package static let maxTokenBytes = 4096
    private let state = Mutex<(generation: UInt64, entries: [Key: Entry])>((0, [:]))
    private let limit: Int

    /// `limit`: how many credentials are kept at most.
    package init(limit: Int = 10_000) {
        self.limit = max(1, limit)
    }

    package var count: Int { state.withLock { $0.entries.count } }

    func lookup(_ token: String, pool: TokenPool, trust: String = "", generation: UInt64, now: Double, leeway: Double) -> Lookup {
        let entry: Entry? = state.withLock { state in
            if state.generation != generation {
                state = (generation, [:])
                return nil
            }
            return state.entries[Key(token: token, pool: pool, trust: trust)]
        }
        guard let entry else { return .miss }
        guard now < entry.expiry + leeway else { return .invalid(TokenRejection.expired.reason) }
        if let notBefore = entry.notBefore, notBefore > now + leeway { return .invalid(TokenRejection.notYetValid.reason) }
        return .hit(entry.token)
    }

    func store(_ token: String, pool: TokenPool, trust: String = "", generation: UInt64, entry: Entry) {
        guard token.utf8.count <= Self.maxTokenBytes else { return }
        state.withLock { state in
            if state.generation != generation { state = (generation, [:]) }
            if state.entries.count >= limit { state.entries.removeAll(keepingCapacity: true) }
            state.entries[Key(token: token, pool: pool, trust: trust)] = entry
        }
    }
}
