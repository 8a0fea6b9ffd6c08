import APKXDS
package import EnvoyProtos
import Foundation
import SwiftProtobuf

// Local-share mode (issue 12 §5, opt-in: `RATELIMIT_LOCAL_SHARE`). For a quota whose share per router listener is
// at least one request per second, a non-enforcing `local_ratelimit` stage lets that share through without asking
// the ratelimiter and tags the requests beyond it (`x-apk-rl-share-<level>`); only tagged requests make the route's
// `rate_limits` entry (a `header_value_match` action) and reach the ratelimiter, which counts them against what the
// shares leave (`local_share_reserved` of the discovery rule). Small quotas stay exact. docs/ratelimiter-design.md
// ("Local share") has the arithmetic and the bounds.
//
// Two stages, one per level, because an operation can have an API-level and an operation-level quota and the tag
// has to say which share ran out. The stages' descriptors (one token bucket per quota, shared by every route of the
// listener) arrive by ECDS, so a deploy never rewrites a listener; a route names its quotas in its metadata
// (`apk.rate_limit_api` / `apk.rate_limit_operation`), read by the stage's `metadata` action.

/// The gateway setting: which part of each quota the routers pass on their own, and how many routers share it.
package struct LocalShareSettings: Sendable, Hashable {
    /// Part of each eligible quota split between the routers' local buckets, 0 < fraction < 1 (the rest is counted
    /// by the ratelimiter, so a router that gets all the traffic still reaches close to the whole quota).
    package var fraction: Double
    /// Router replicas sharing the quotas (each of their listeners gets its own bucket).
    package var routerReplicas: Int

    package init(fraction: Double, routerReplicas: Int) {
        self.fraction = fraction
        self.routerReplicas = routerReplicas
    }
}

/// The two levels of quota, each with its own stage and tag.
package enum RateLimitLevel: String, Sendable, Hashable, CaseIterable, Comparable {
    case api
    case operation

    /// From a quota's descriptor value (``RateLimitIR/descriptor``: `api:` or `op:` first).
    package init(_ limit: RateLimitIR) {
        self = limit.descriptor.hasPrefix("api:") ? .api : .operation
    }

    /// The request header the stage adds to requests beyond the local share (removed before the upstream).
    package var tagHeader: String { self == .api ? "x-apk-rl-share-api" : "x-apk-rl-share-op" }
    /// The stage's filter name, also its ECDS resource name.
    package var filterName: String { "apk.local_share.\(rawValue)" }
    /// The route metadata field (namespace ``XDSTranslator/metadataNamespace``) naming the route's quota.
    package var metadataField: String { "rate_limit_\(rawValue)" }

    package static func < (a: RateLimitLevel, b: RateLimitLevel) -> Bool { a.rawValue < b.rawValue }
}

/// One quota's local stage: a token bucket of `tokensPerFill` refilled every `fillIntervalMilliseconds` (also its
/// capacity) in every router listener; `reservedPerWindow` is what all of them pass in one window.
package struct LocalShareRule: Sendable, Hashable, Comparable {
    package var descriptor: String
    package var level: RateLimitLevel
    package var tokensPerFill: UInt32
    package var fillIntervalMilliseconds: Int
    package var reservedPerWindow: UInt32

    package static func < (a: LocalShareRule, b: LocalShareRule) -> Bool {
        (a.level, a.descriptor) < (b.level, b.descriptor)
    }
}

extension XDSSettings {
    /// Listeners per router: each holds its own local buckets.
    var gatewayListenerCount: Int { (tls == nil ? 0 : 1) + (httpPort == nil ? 0 : 1) }

    /// The local stage of `limit`, nil when local share is off or the quota is too small for it (exact then).
    ///
    /// Per listener of every replica the share is `fraction × limit ÷ (replicas × listeners)` per window, passed at
    /// an even rate: `tokensPerFill` every second (every 100 ms for per-second quotas, when that still gives a whole
    /// token), at least one. The bucket holds one fill, so a router passes at most one fill more than its share in
    /// any window (the bucket's period is not aligned with the UTC window) — the bounded overshoot.
    package func localShare(for limit: RateLimitIR) -> LocalShareRule? {
        guard let share = rateLimiter?.localShare else { return nil }
        let sharers = max(1, share.routerReplicas) * max(1, gatewayListenerCount)
        let windowMilliseconds = Double(limit.unit.seconds) * 1000
        let perSharer = share.fraction * Double(limit.requestsPerUnit) / Double(sharers)
        for fill in limit.unit == .second ? [100, 1000] : [1000] {
            let tokens = (perSharer * Double(fill) / windowMilliseconds).rounded(.down)
            guard tokens >= 1, tokens <= Double(UInt32.max) else { continue }
            let reserved = Double(sharers) * tokens * (windowMilliseconds / Double(fill))
            // fraction < 1 keeps this below the limit; the ratelimiter also refuses a rule that reserves it all.
            guard reserved < Double(limit.requestsPerUnit) else { return nil }
            return LocalShareRule(
                descriptor: limit.descriptor, level: RateLimitLevel(limit), tokensPerFill: UInt32(tokens),
                fillIntervalMilliseconds: fill, reservedPerWindow: UInt32(reserved))
        }
        return nil
    }
}

extension RateLimitIR.Unit {
    /// The window's length.
    package var seconds: Int {
        switch self {
        case .second: 1
        case .minute: 60
        case .hour: 3600
        case .day: 86400
        }
    }
}

extension XDSTranslator {
    package static let localShareTypeURL = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"

    /// The two stages (before the `ratelimit` filter), their configuration by ECDS. No default: the listener warms
    /// until the adapter sends it, which it always does in this mode (with no descriptors when no quota qualifies).
    static func localShareFilters() -> [Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter] {
        RateLimitLevel.allCases.map { level in
            var filter = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
            filter.name = level.filterName
            var discovery = Envoy_Config_Core_V3_ExtensionConfigSource()
            discovery.configSource.ads = Envoy_Config_Core_V3_AggregatedConfigSource()
            discovery.configSource.resourceApiVersion = .v3
            discovery.typeUrls = [localShareTypeURL]
            filter.configDiscovery = discovery
            return filter
        }
    }

    /// The ECDS resource of `level`'s stage: one descriptor (token bucket) per quota of `rules` at that level;
    /// enabled, never enforced, tagging what is beyond the share.
    package static func localShareExtension(
        _ level: RateLimitLevel, rules: some Sequence<LocalShareRule>, encoder: ProtoEncoder
    ) throws -> Envoy_Config_Core_V3_TypedExtensionConfig {
        var config = Envoy_Extensions_Filters_Http_LocalRatelimit_V3_LocalRateLimit()
        config.statPrefix = "apk_local_share_\(level.rawValue)"
        config.filterEnabled.defaultValue.numerator = 100
        config.filterEnabled.runtimeKey = "apk.local_share.enabled"
        config.filterEnforced.defaultValue.numerator = 0
        config.filterEnforced.runtimeKey = "apk.local_share.enforced"
        var tag = Envoy_Config_Core_V3_HeaderValueOption()
        tag.header.key = level.tagHeader
        tag.header.value = "1"
        tag.appendAction = .overwriteIfExistsOrAdd
        config.requestHeadersToAddWhenNotEnforced = [tag]
        var action = Envoy_Config_Route_V3_RateLimit.Action()
        action.metadata.descriptorKey = RateLimitDescriptor.key
        action.metadata.metadataKey.key = metadataNamespace
        var segment = Envoy_Type_Metadata_V3_MetadataKey.PathSegment()
        segment.key = level.metadataField
        action.metadata.metadataKey.path = [segment]
        action.metadata.source = .routeEntry
        var rateLimit = Envoy_Config_Route_V3_RateLimit()
        rateLimit.actions = [action]
        config.rateLimits = [rateLimit]
        config.descriptors = rules.filter { $0.level == level }.sorted().map { rule in
            var entry = Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor.Entry()
            entry.key = RateLimitDescriptor.key
            entry.value = rule.descriptor
            var descriptor = Envoy_Extensions_Common_Ratelimit_V3_LocalRateLimitDescriptor()
            descriptor.entries = [entry]
            descriptor.tokenBucket.maxTokens = rule.tokensPerFill
            descriptor.tokenBucket.tokensPerFill = Google_Protobuf_UInt32Value(rule.tokensPerFill)
            descriptor.tokenBucket.fillInterval = Google_Protobuf_Duration(
                seconds: Int64(rule.fillIntervalMilliseconds / 1000),
                nanos: Int32(rule.fillIntervalMilliseconds % 1000) * 1_000_000)
            return descriptor
        }
        var extensionConfig = Envoy_Config_Core_V3_TypedExtensionConfig()
        extensionConfig.name = level.filterName
        extensionConfig.typedConfig = try AnyPacking.pack(config, encoder: encoder)
        return extensionConfig
    }
}
