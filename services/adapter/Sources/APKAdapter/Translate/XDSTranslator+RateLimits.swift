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

    /// The route's rate-limit actions: one entry (one descriptor) per rule — a `generic_key`, or in local-share mode
    /// for a quota in `localShares` a `header_value_match` that yields the same descriptor only for requests its
    /// local stage tagged as beyond the router's share.
    static func rateLimitActions(
        _ limits: [RateLimitIR], localShares: [LocalShareRule] = []
    ) -> [Envoy_Config_Route_V3_RateLimit] {
        limits.map { limit in
            var action = Envoy_Config_Route_V3_RateLimit.Action()
            if let share = localShares.first(where: { $0.descriptor == limit.descriptor }) {
                var tagged = Envoy_Config_Route_V3_HeaderMatcher()
                tagged.name = share.level.tagHeader
                tagged.presentMatch = true
                action.headerValueMatch.descriptorKey = RateLimitDescriptor.key
                action.headerValueMatch.descriptorValue = limit.descriptor
                action.headerValueMatch.expectMatch = Google_Protobuf_BoolValue(true)
                action.headerValueMatch.headers = [tagged]
            } else {
                action.genericKey.descriptorKey = RateLimitDescriptor.key
                action.genericKey.descriptorValue = limit.descriptor
            }
            var rateLimit = Envoy_Config_Route_V3_RateLimit()
            rateLimit.actions = [action]
            return rateLimit
        }
    }
}
