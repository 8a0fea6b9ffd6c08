package import APKProtos
package import EnvoyProtos

/// The length of a rate-limit window: the units of `RateLimitPolicy` (contract §8.1).
package enum RateLimitUnit: String, Sendable, Hashable, CaseIterable {
    case second, minute, hour, day

    /// The window's length in seconds.
    package var seconds: Int64 {
        switch self {
        case .second: 1
        case .minute: 60
        case .hour: 3600
        case .day: 86_400
        }
    }

    /// The unit of a discovery rule; nil for `UNIT_UNSPECIFIED` and values this build does not know.
    package init?(_ unit: Apk_Discovery_V1_RateLimit.Unit) {
        switch unit {
        case .second: self = .second
        case .minute: self = .minute
        case .hour: self = .hour
        case .day: self = .day
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    /// The unit as Envoy's RLS response names it (`current_limit.unit`, used for `x-ratelimit-*` headers).
    package var envoyUnit: Envoy_Service_Ratelimit_V3_RateLimitResponse.RateLimit.Unit {
        switch self {
        case .second: .second
        case .minute: .minute
        case .hour: .hour
        case .day: .day
        }
    }
}
