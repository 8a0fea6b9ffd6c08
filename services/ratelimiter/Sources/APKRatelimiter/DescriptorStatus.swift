/// The limiter's answer for one descriptor.
package struct DescriptorStatus: Sendable, Hashable {
    /// How the answer was reached (the `decision` label of `apk_ratelimiter_descriptors_total`).
    package enum Decision: String, Sendable, Hashable, CaseIterable {
        /// Counted in Redis and within the limit (or a read-only hit on any counter).
        case ok
        /// Counted in Redis and over the limit.
        case overLimit = "over_limit"
        /// Over the limit per the local over-limit cache: Redis was not asked, nothing counted.
        case overLimitCached = "over_limit_cached"
        /// No rule has this descriptor value: allowed.
        case noRule = "no_rule"
        /// Not a single well-formed `apk.rule` entry: allowed.
        case malformed
        /// Limited, but Redis was slow, down or skipped by the breaker: allowed (fail open).
        case failOpen = "fail_open"
    }

    /// How the answer was reached.
    package var decision: Decision
    /// The rule applied; nil when none applies (`no_rule`, `malformed`).
    package var rule: RateLimitRule?
    /// Hits left in the window after this one (the full limit when failing open: the count is unknown then).
    package var remaining: UInt32
    /// Time until the window ends and the counter starts again (zero when no rule applies).
    package var resetIn: Duration

    /// Creates a status.
    package init(decision: Decision, rule: RateLimitRule?, remaining: UInt32, resetIn: Duration) {
        self.decision = decision
        self.rule = rule
        self.remaining = remaining
        self.resetIn = resetIn
    }

    /// True when the request must be refused for this descriptor.
    package var isOverLimit: Bool { decision == .overLimit || decision == .overLimitCached }

    /// A descriptor no rule limits.
    static func unlimited(_ decision: Decision) -> DescriptorStatus {
        DescriptorStatus(decision: decision, rule: nil, remaining: 0, resetIn: .zero)
    }
}
