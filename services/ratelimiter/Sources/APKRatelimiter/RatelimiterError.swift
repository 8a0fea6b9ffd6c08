/// Why the ratelimiter refused a request or a rule set. The `code` is stable: it is the gRPC status message's
/// prefix, the log's `error.code` and the value listed in the README; `detail` is for people.
package struct RatelimiterError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stable kinds of failure.
    package enum Code: String, Sendable, Hashable, CaseIterable {
        /// `ShouldRateLimit` named another domain than the configured one (`RATELIMIT_DOMAIN`), or none.
        case invalidDomain = "ratelimit_invalid_domain"
        /// `ShouldRateLimit` without descriptors.
        case noDescriptors = "ratelimit_no_descriptors"
        /// `ShouldRateLimit` with more descriptors than `RATELIMIT_MAX_DESCRIPTORS`.
        case tooManyDescriptors = "ratelimit_too_many_descriptors"
        /// A request-level or descriptor-level `hits_addend` above `RATELIMIT_MAX_HITS_ADDEND`.
        case hitsAddendOutOfRange = "ratelimit_hits_addend_out_of_range"
        /// A rule without a usable descriptor value, limit or unit (the discovery update is rejected: NACK).
        case invalidRule = "ratelimit_invalid_rule"
        /// Two rules with the same descriptor value and different limits (the update is rejected: NACK).
        case conflictingRules = "ratelimit_conflicting_rules"
        /// The static rules setting (`RULES_JSON` / `RULES_FILE`) cannot be read.
        case invalidStaticRules = "ratelimit_invalid_static_rules"
    }

    /// The stable kind of failure.
    package var code: Code
    /// A human-readable explanation (never a secret).
    package var detail: String

    /// Creates an error of `code` with an explanation.
    package init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// `code: detail`.
    package var description: String { "\(code.rawValue): \(detail)" }
}
