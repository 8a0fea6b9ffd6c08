import Metrics

/// The ratelimiter's metrics (created once; a request only increments). Names as in the README:
///
/// - `apk_ratelimiter_requests_total{code="ok"|"over_limit"|"invalid"}`: `ShouldRateLimit` calls by overall answer;
/// - `apk_ratelimiter_descriptors_total{decision=…}`: descriptors by ``DescriptorStatus/Decision`` (`no_rule` and
///   `malformed` are descriptors that no rule limits);
/// - `apk_ratelimiter_fail_open_total{reason="timeout"|"redis_error"|"breaker_open"}`: requests answered without
///   Redis (their limited descriptors were allowed);
/// - `apk_ratelimiter_redis_seconds`: one request's Redis pipeline, from sending to the last reply;
/// - `apk_ratelimiter_decision_seconds`: one request's decision in the process (without the gRPC transport);
/// - `apk_ratelimiter_breaker_open`: 1 while the breaker keeps requests away from Redis;
/// - `apk_ratelimiter_rules`: rules in force; `apk_ratelimiter_rule_updates_total{result="accepted"|"rejected"}`.
struct RatelimiterMetrics: Sendable {
    let requestsOK = Counter(label: "apk_ratelimiter_requests_total", dimensions: [("code", "ok")])
    let requestsOverLimit = Counter(label: "apk_ratelimiter_requests_total", dimensions: [("code", "over_limit")])
    let requestsInvalid = Counter(label: "apk_ratelimiter_requests_total", dimensions: [("code", "invalid")])
    private let descriptors: [DescriptorStatus.Decision: Counter] = Dictionary(
        uniqueKeysWithValues: DescriptorStatus.Decision.allCases.map {
            ($0, Counter(label: "apk_ratelimiter_descriptors_total", dimensions: [("decision", $0.rawValue)]))
        })
    private let failOpen: [RedisGuard.FailOpenReason: Counter] = Dictionary(
        uniqueKeysWithValues: RedisGuard.FailOpenReason.allCases.map {
            ($0, Counter(label: "apk_ratelimiter_fail_open_total", dimensions: [("reason", $0.rawValue)]))
        })
    let redisDuration = Timer(label: "apk_ratelimiter_redis_seconds")
    let decisionDuration = Timer(label: "apk_ratelimiter_decision_seconds")
    let breakerOpen = Gauge(label: "apk_ratelimiter_breaker_open")
    let rules = Gauge(label: "apk_ratelimiter_rules")
    let ruleUpdatesAccepted = Counter(label: "apk_ratelimiter_rule_updates_total", dimensions: [("result", "accepted")])
    let ruleUpdatesRejected = Counter(label: "apk_ratelimiter_rule_updates_total", dimensions: [("result", "rejected")])

    func count(_ decision: DescriptorStatus.Decision) {
        descriptors[decision]?.increment()
    }

    func countFailOpen(_ reason: RedisGuard.FailOpenReason) {
        failOpen[reason]?.increment()
    }
}
