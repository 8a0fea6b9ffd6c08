import APKRedis
import Metrics
package import NIOCore
import NIOPosix

/// Decides the descriptors of one `ShouldRateLimit` call: rules from the ``RuleStore``, fixed windows on the
/// injected clock, counters in Redis through the ``RedisGuard``, exhausted keys answered by the ``OverLimitCache``.
///
/// Per limited descriptor the request sends `INCRBY <key> <hits>` and `EXPIRE <key> <window seconds> NX`; all
/// commands of one request go out as one pipeline (and the connection flushes the pipelines of concurrent requests
/// written in the same event-loop turn together). A count above the limit is `OVER_LIMIT`; a count that reaches the
/// limit marks the key exhausted until its window ends, so later hits skip Redis.
package final class RateLimiter: Sendable {
    private let rules: RuleStore
    private let redis: RedisGuard
    private let cache: OverLimitCache
    private let clock: any RatelimiterClock
    private let metrics: RatelimiterMetrics

    /// Creates a limiter over its parts.
    package convenience init(
        rules: RuleStore, redis: RedisGuard, cache: OverLimitCache, clock: any RatelimiterClock
    ) {
        self.init(rules: rules, redis: redis, cache: cache, clock: clock, metrics: RatelimiterMetrics())
    }

    init(
        rules: RuleStore, redis: RedisGuard, cache: OverLimitCache, clock: any RatelimiterClock,
        metrics: RatelimiterMetrics
    ) {
        self.rules = rules
        self.redis = redis
        self.cache = cache
        self.clock = clock
        self.metrics = metrics
    }

    /// A descriptor waiting for its Redis reply.
    private struct Pending {
        var index: Int
        var key: String
        var rule: RateLimitRule
        var window: FixedWindow
        var hits: UInt64
    }

    /// The status of each descriptor, in order (never fails: Redis trouble fails open). Without a task: a request
    /// that needs Redis completes when the ``RedisGuard``'s future does, on the Redis connection's event loop
    /// (`eventLoop`'s when the pool has one there); one that does not is answered at once.
    package func decide(_ queries: [DescriptorQuery], on eventLoop: any EventLoop) -> EventLoopFuture<[DescriptorStatus]> {
        let now = clock.unixNanoseconds
        let rules = self.rules.current
        var statuses = [DescriptorStatus](repeating: .unlimited(.malformed), count: queries.count)
        var pending: [Pending] = []
        var commands: [[String]] = []
        for (index, query) in queries.enumerated() {
            guard case .rule(let value, let hits) = query else { continue }
            guard let rule = rules[value] else {
                statuses[index] = .unlimited(.noRule)
                continue
            }
            let window = FixedWindow(unit: rule.unit, containing: now)
            let key = CounterKey.make(descriptorValue: value, window: window)
            if cache.isExhausted(key, atUnixNanoseconds: now) {
                statuses[index] = DescriptorStatus(
                    decision: hits == 0 ? .ok : .overLimitCached, rule: rule, remaining: 0,
                    resetIn: window.timeUntilEnd(fromUnixNanoseconds: now))
                continue
            }
            pending.append(Pending(index: index, key: key, rule: rule, window: window, hits: hits))
            commands.append(["INCRBY", key, String(hits)])
            commands.append(["EXPIRE", key, String(rule.unit.seconds), "NX"])
        }
        guard !pending.isEmpty else {
            for status in statuses { metrics.count(status.decision) }
            return eventLoop.makeSucceededFuture(statuses)
        }
        let decided = statuses
        let waiting = pending
        return redis.pipeline(commands, on: eventLoop).map { outcome in
            var statuses = decided
            // Reset times from the moment of the answer (a slow reply must not promise a later reset).
            let answered = self.clock.unixNanoseconds
            for (position, item) in waiting.enumerated() {
                let reply: RESPValue? =
                    if case .replies(let replies) = outcome, 2 * position < replies.count { replies[2 * position] }
                    else { nil }
                statuses[item.index] = self.status(of: item, counted: reply, at: answered)
            }
            for status in statuses { self.metrics.count(status.decision) }
            return statuses
        }
    }

    /// ``decide(_:on:)`` awaited.
    package func decide(_ queries: [DescriptorQuery]) async -> [DescriptorStatus] {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        return (try? await decide(queries, on: eventLoop).get())
            ?? queries.map { _ in DescriptorStatus.unlimited(.malformed) }  // unreachable: the future never fails
    }

    /// The status of `item` given the reply to its `INCRBY` (nil: no reply, the request failed open). A Redis error
    /// reply (a key of another type, say) fails open too; the `EXPIRE` reply is not needed.
    private func status(of item: Pending, counted reply: RESPValue?, at now: Int64) -> DescriptorStatus {
        let resetIn = item.window.timeUntilEnd(fromUnixNanoseconds: now)
        guard case .integer(let count) = reply else {
            return DescriptorStatus(
                decision: .failOpen, rule: item.rule, remaining: item.rule.requestsPerUnit, resetIn: resetIn)
        }
        let limit = Int64(item.rule.countedLimit)
        if count >= limit {
            cache.markExhausted(item.key, untilUnixSecond: item.window.end, atUnixNanoseconds: now)
        }
        let remaining = UInt32(clamping: max(limit - count, 0))
        return DescriptorStatus(
            decision: count > limit ? .overLimit : .ok, rule: item.rule, remaining: remaining, resetIn: resetIn)
    }
}
