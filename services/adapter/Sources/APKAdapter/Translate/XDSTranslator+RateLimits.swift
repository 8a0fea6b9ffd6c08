import APKXDS
import EnvoyProtos
import SwiftProtobuf

// Quotas (contract §8, issue 12): Envoy's global `ratelimit` filter asks `apk-ratelimiter` (Envoy's RLS API) on the
// routes that carry a rule, with one compact descriptor per rule (`apk.rule` = ``RateLimitIR/descriptor``); the
// ratelimiter holds the limits (APK discovery `RateLimitConfig`, ``ServiceSnapshotBuilder``). Routes without a
// rule make no call. After the security filters, so that refused requests do not use up a quota.
extension XDSTranslator {
    static let rateLimitFilterName = "envoy.filters.http.ratelimit"
    static let rateLimiterCluster = "apk-system/ratelimiter"

    /// The HTTP filter: domain, timeout, fail open or closed, `x-ratelimit-*` headers in draft-03 form.
    static func rateLimitFilter(
        _ link: XDSSettings.RateLimiterLink, encoder: ProtoEncoder
    ) throws -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter {
        var config = Envoy_Extensions_Filters_Http_Ratelimit_V3_RateLimit()
        config.domain = link.domain
        config.timeout = Google_Protobuf_Duration(
            seconds: Int64(link.timeoutMilliseconds / 1000), nanos: Int32(link.timeoutMilliseconds % 1000) * 1_000_000)
        config.failureModeDeny = !link.failOpen
        config.enableXRatelimitHeaders = .draftVersion03
        config.rateLimitService.grpcService.envoyGrpc.clusterName = rateLimiterCluster
        config.rateLimitService.transportApiVersion = .v3
        var filter = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        filter.name = rateLimitFilterName
        filter.typedConfig = try AnyPacking.pack(config, encoder: encoder)
        return filter
    }

    /// The route's rate-limit actions: one entry (one descriptor, one `generic_key`) per rule.
    static func rateLimitActions(_ limits: [RateLimitIR]) -> [Envoy_Config_Route_V3_RateLimit] {
        limits.map { limit in
            var action = Envoy_Config_Route_V3_RateLimit.Action()
            action.genericKey.descriptorKey = RateLimitDescriptor.key
            action.genericKey.descriptorValue = limit.descriptor
            var rateLimit = Envoy_Config_Route_V3_RateLimit()
            rateLimit.actions = [action]
            return rateLimit
        }
    }
}
