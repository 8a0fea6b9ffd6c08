package import APKProtos
import APKXDS

/// One limit the ratelimiter enforces: at most `requestsPerUnit` hits per fixed window of `unit`, counted for every
/// descriptor whose `apk.rule` entry carries `descriptorValue`.
package struct RateLimitRule: Sendable, Hashable {
    /// The descriptor key Envoy's route actions use for every APK rule (`descriptor_key` of a `generic_key`
    /// action), shared with the adapter (``RateLimitDescriptor``).
    package static let descriptorKey = RateLimitDescriptor.key
    /// The longest descriptor value accepted, in UTF-8 bytes (a rule longer than this is rejected, a descriptor
    /// longer than this is malformed): Redis keys stay short and a hostile value cannot blow up memory.
    package static let maxDescriptorValueBytes = 512

    /// The opaque value the adapter gave the rule (unique per rule across all organizations and environments).
    package var descriptorValue: String
    /// Hits allowed per window (at least 1).
    package var requestsPerUnit: UInt32
    /// The window's unit.
    package var unit: RateLimitUnit
    /// Local-share mode: hits per window the routers pass on their own without asking (always below
    /// `requestsPerUnit`); 0 in exact mode. See ``countedLimit``.
    package var localShareReserved: UInt32

    /// Creates a rule.
    package init(descriptorValue: String, requestsPerUnit: UInt32, unit: RateLimitUnit, localShareReserved: UInt32 = 0) {
        self.descriptorValue = descriptorValue
        self.requestsPerUnit = requestsPerUnit
        self.unit = unit
        self.localShareReserved = min(localShareReserved, requestsPerUnit - min(requestsPerUnit, 1))
    }

    /// The hits per window this service allows: the whole limit in exact mode; in local-share mode what the routers'
    /// own shares leave (the requests that reach us are the ones beyond a router's share). Answers still report
    /// `requestsPerUnit` as the limit, with the remaining count of this part.
    package var countedLimit: UInt32 { requestsPerUnit - localShareReserved }

    /// Validates one discovery rule of `config` (named in errors as `<organization>/<environment>`).
    package init(
        _ rule: Apk_Discovery_V1_RateLimitRule, of config: Apk_Discovery_V1_RateLimitConfig
    ) throws(RatelimiterError) {
        let owner = "\(config.organization)/\(config.environment)"
        let value = rule.descriptorValue
        guard !value.isEmpty, value.utf8.count <= Self.maxDescriptorValueBytes else {
            throw RatelimiterError(
                .invalidRule,
                "a rule of \(owner) has an empty descriptor_value or one over \(Self.maxDescriptorValueBytes) bytes")
        }
        guard rule.hasLimit, rule.limit.requestsPerUnit > 0 else {
            throw RatelimiterError(.invalidRule, "rule '\(value)' of \(owner) allows no request per unit")
        }
        guard let unit = RateLimitUnit(rule.limit.unit) else {
            throw RatelimiterError(.invalidRule, "rule '\(value)' of \(owner) has no known unit")
        }
        guard rule.localShareReserved < rule.limit.requestsPerUnit else {
            throw RatelimiterError(
                .invalidRule,
                "rule '\(value)' of \(owner) reserves \(rule.localShareReserved) of its \(rule.limit.requestsPerUnit) "
                    + "hits for the routers' local shares: at least one must be left to count here")
        }
        self.init(
            descriptorValue: value, requestsPerUnit: rule.limit.requestsPerUnit, unit: unit,
            localShareReserved: rule.localShareReserved)
    }
}
