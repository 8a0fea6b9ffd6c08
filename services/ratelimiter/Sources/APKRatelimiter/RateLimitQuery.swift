package import EnvoyProtos
import SwiftProtobuf

/// One descriptor of a `ShouldRateLimit` request, as the limiter needs it.
package enum DescriptorQuery: Sendable, Hashable {
    /// A well-formed `apk.rule` descriptor: count `hits` against the rule of `descriptorValue` (if there is one).
    case rule(descriptorValue: String, hits: UInt64)
    /// Not one `apk.rule` entry with a usable value: allowed, no limit applies (counted as `malformed`).
    case malformed
}

/// What the service accepts from Envoy; a request outside these bounds is refused as a whole (`INVALID_ARGUMENT`).
package struct RateLimitQueryLimits: Sendable, Hashable {
    /// The only domain served (the `domain` of the router's rate-limit filter).
    package var domain: String
    /// Descriptors one request may carry.
    package var maxDescriptors: Int
    /// The largest `hits_addend`, per request and per descriptor.
    package var maxHitsAddend: UInt64

    /// Creates the bounds.
    package init(domain: String = "apk", maxDescriptors: Int = 16, maxHitsAddend: UInt64 = 1_000_000) {
        self.domain = domain
        self.maxDescriptors = maxDescriptors
        self.maxHitsAddend = maxHitsAddend
    }
}

/// Validates a `ShouldRateLimit` request and reads its descriptors (pure).
package enum RateLimitQuery {
    /// The descriptors of `request`, in order; throws ``RatelimiterError`` for a request outside `limits`.
    ///
    /// Hits per descriptor: the descriptor's own `hits_addend` when set (0 only reads the counter), else the
    /// request's, where 0 means 1 (Envoy's convention). A descriptor's `limit` override is ignored: limits come
    /// from the rules only.
    package static func parse(
        _ request: Envoy_Service_Ratelimit_V3_RateLimitRequest, limits: RateLimitQueryLimits
    ) throws(RatelimiterError) -> [DescriptorQuery] {
        guard request.domain == limits.domain else {
            throw RatelimiterError(
                .invalidDomain, "domain '\(request.domain.prefix(64))' is not served (expected '\(limits.domain)')")
        }
        guard !request.descriptors.isEmpty else {
            throw RatelimiterError(.noDescriptors, "the request carries no descriptor")
        }
        guard request.descriptors.count <= limits.maxDescriptors else {
            throw RatelimiterError(
                .tooManyDescriptors,
                "\(request.descriptors.count) descriptors; at most \(limits.maxDescriptors) are accepted")
        }
        let requestHits = UInt64(max(request.hitsAddend, 1))
        guard requestHits <= limits.maxHitsAddend else {
            throw outOfRange(requestHits, limits)
        }
        var queries: [DescriptorQuery] = []
        queries.reserveCapacity(request.descriptors.count)
        for descriptor in request.descriptors {
            let hits = descriptor.hasHitsAddend ? descriptor.hitsAddend.value : requestHits
            guard hits <= limits.maxHitsAddend else { throw outOfRange(hits, limits) }
            queries.append(query(descriptor, hits: hits))
        }
        return queries
    }

    private static func query(
        _ descriptor: Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor, hits: UInt64
    ) -> DescriptorQuery {
        guard descriptor.entries.count == 1, let entry = descriptor.entries.first,
            entry.key == RateLimitRule.descriptorKey, !entry.value.isEmpty,
            entry.value.utf8.count <= RateLimitRule.maxDescriptorValueBytes
        else { return .malformed }
        return .rule(descriptorValue: entry.value, hits: hits)
    }

    private static func outOfRange(_ hits: UInt64, _ limits: RateLimitQueryLimits) -> RatelimiterError {
        RatelimiterError(.hitsAddendOutOfRange, "hits_addend \(hits) is above the maximum \(limits.maxHitsAddend)")
    }
}
