package import APKRedis
import APKSupport
package import Logging
import Metrics
package import NIOCore
import Synchronization

/// Redis as the limiter uses it: every pipeline bounded by the deadline and gated by the ``CircuitBreaker``, so that
/// whatever Redis does, an answer is ready within the deadline — and at once during an outage.
///
/// Failures are counted per request (`apk_ratelimiter_fail_open_total`) and logged once per outage: a warning when
/// the breaker opens, an info line when a probe finds Redis back.
package final class RedisGuard: Sendable {
    /// Why a request was answered without Redis.
    package enum FailOpenReason: String, Sendable, Hashable, CaseIterable {
        /// No complete reply within the deadline.
        case timeout
        /// A connection-level failure (not connected, connection lost, protocol error).
        case redisError = "redis_error"
        /// The breaker is open: Redis was not asked.
        case breakerOpen = "breaker_open"
    }

    /// The replies of a pipeline, in order, or why there are none.
    package enum Outcome: Sendable, Equatable {
        case replies([RESPValue])
        case failOpen(FailOpenReason)
    }

    private let redis: any RedisClient
    private let clock: any RatelimiterClock
    private let deadline: Duration
    private let breaker: Mutex<CircuitBreaker>
    private let outageStart = Mutex<Duration?>(nil)
    private let logger: Logger
    private let metrics: RatelimiterMetrics

    /// Guards `redis` with `deadline` per pipeline and a breaker configured by `breaker`.
    package convenience init(
        redis: any RedisClient, clock: any RatelimiterClock, deadline: Duration,
        breaker: CircuitBreaker.Configuration = .init(), logger: Logger
    ) {
        self.init(redis: redis, clock: clock, deadline: deadline, breaker: breaker, logger: logger,
                  metrics: RatelimiterMetrics())
    }

    init(
        redis: any RedisClient, clock: any RatelimiterClock, deadline: Duration,
        breaker: CircuitBreaker.Configuration, logger: Logger, metrics: RatelimiterMetrics
    ) {
        self.redis = redis
        self.clock = clock
        self.deadline = deadline
        self.breaker = Mutex(CircuitBreaker(configuration: breaker))
        self.logger = logger
        self.metrics = metrics
    }

    /// The breaker's state now.
    package var breakerState: CircuitBreaker.State { breaker.withLock { $0.state } }

    /// Sends `commands` as one pipeline unless the breaker is open; the replies, or why there are none, by the
    /// deadline at the latest. Never fails. Runs without a task: the deadline is timed by the Redis client on its
    /// connection's event loop, preferably `eventLoop` (the caller's), so a call stays on one thread.
    package func pipeline(_ commands: [[String]], on eventLoop: any EventLoop) -> EventLoopFuture<Outcome> {
        let permit = breaker.withLock { $0.permit(now: clock.monotonic) }
        guard permit != .reject else {
            metrics.countFailOpen(.breakerOpen)
            return eventLoop.makeSucceededFuture(.failOpen(.breakerOpen))
        }
        let started = clock.monotonic
        return redis.pipeline(commands, patience: deadline, preferring: eventLoop).map { replies in
            let now = self.clock.monotonic
            self.metrics.redisDuration.record(duration: now - started)
            let transition = self.breaker.withLock { $0.recordSuccess() }
            if transition == .closed { self.restored(now: now) }
            return Outcome.replies(replies)
        }.recover { error in
            self.failed(Self.failure(of: error))
        }
    }

    private struct Failure: Error {
        var reason: FailOpenReason
        var code: String

        var metadata: Logger.Metadata { ["error.code": "\(code)"] }
    }

    private static func failure(of error: any Error) -> Failure {
        switch error {
        case let error as RedisClientError where error.code == .replyLate:
            Failure(reason: .timeout, code: "redis_deadline_exceeded")
        case let error as RedisClientError:
            Failure(reason: .redisError, code: error.code.rawValue)
        default:
            Failure(reason: .redisError, code: "redis_failed")
        }
    }

    /// Counts a failure, moves the breaker and logs once per outage.
    private func failed(_ failure: Failure) -> Outcome {
        let now = clock.monotonic
        metrics.countFailOpen(failure.reason)
        let random = Double.random(in: 0..<1)
        let transition = breaker.withLock { $0.recordFailure(now: now, random: random) }
        switch transition {
        case .opened: outage(began: now, failure)
        case .reopened: logger.debug("Redis still unavailable", metadata: failure.metadata)
        case .none, .closed: logger.debug("Redis request failed; allowed", metadata: failure.metadata)
        }
        return .failOpen(failure.reason)
    }

    private func outage(began now: Duration, _ failure: Failure) {
        outageStart.withLock { $0 = now }
        metrics.breakerOpen.record(1)
        logger.warning(
            "Redis unavailable: rate limits are not enforced (requests are allowed) until it answers again",
            metadata: failure.metadata)
    }

    private func restored(now: Duration) {
        let began = outageStart.withLock { start in
            defer { start = nil }
            return start
        }
        metrics.breakerOpen.record(0)
        logger.info(
            "Redis answers again: rate limits are enforced",
            metadata: ["redis.outage.seconds": "\(began.map { (now - $0).seconds } ?? 0)"])
    }
}
