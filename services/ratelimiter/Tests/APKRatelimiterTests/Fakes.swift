import APKRatelimiter
import APKRedis
import APKSupport
import EnvoyProtos
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A logger that prints nothing (outages are logged on purpose in these tests).
let quietLogger = Logger(label: "apk.ratelimiter.tests") { _ in SwiftLogNoOpLogHandler() }

/// 2023-11-14T22:13:00Z: the start of a minute (and of no hour), where the manual clocks of these tests start.
let minuteStart: Int64 = 1_699_999_980

/// A Redis that can be switched between answering (from an ``InMemoryRedisClient``), failing at once, and hanging
/// until the waiting task is cancelled (a Redis that stopped answering). Counts the pipelines it was sent.
final class ScriptedRedis: RedisClient {
    enum Mode: Sendable { case answer, fail, hang }

    private let store: InMemoryRedisClient<ManualClock>
    private let clock: ManualClock
    private let state = Mutex<(mode: Mode, pipelines: Int, commands: [[String]])>((.answer, 0, []))

    init(clock: ManualClock) {
        store = InMemoryRedisClient(clock: clock)
        self.clock = clock
    }

    var mode: Mode {
        get { state.withLock { $0.mode } }
        set { state.withLock { $0.mode = newValue } }
    }

    /// Pipelines received (whatever the mode).
    var pipelines: Int { state.withLock { $0.pipelines } }

    /// Every command received, in order.
    var commands: [[String]] { state.withLock { $0.commands } }

    func send(_ command: [String]) async throws -> RESPValue {
        try await pipeline([command])[0]
    }

    func pipeline(_ commands: [[String]]) async throws -> [RESPValue] {
        let mode = state.withLock { state in
            state.pipelines += 1
            state.commands += commands
            return state.mode
        }
        switch mode {
        case .answer:
            return try await store.pipeline(commands)
        case .fail:
            throw RedisClientError(.notConnected, "scripted outage")
        case .hang:
            try await hangUntilCancelled()
            throw CancellationError()
        }
    }

    /// As a real connection: gives up after `patience` on the manual clock (``RedisClientError/Code/replyLate``);
    /// the answer comes from a task (the test's stand-in for the connection's event loop).
    func pipeline(
        _ commands: [[String]], patience: Duration, preferring eventLoop: (any EventLoop)?
    ) -> EventLoopFuture<[RESPValue]> {
        (eventLoop ?? MultiThreadedEventLoopGroup.singleton.any()).makeFutureWithTask {
            try await self.patientPipeline(commands, patience: patience)
        }
    }

    private func patientPipeline(_ commands: [[String]], patience: Duration) async throws -> [RESPValue] {
        let clock = self.clock
        return try await withThrowingTaskGroup(of: [RESPValue]?.self) { group in
            group.addTask { try await self.pipeline(commands) }
            group.addTask {
                try await clock.sleep(for: patience)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let replies = first else {
                throw RedisClientError(.replyLate, "no reply within \(patience)")
            }
            return replies
        }
    }

    /// Suspends until the task is cancelled.
    private func hangUntilCancelled() async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
        await withTaskCancellationHandler {
            for await _ in stream {}
        } onCancel: {
            continuation.finish()
        }
    }
}

/// The parts of a limiter over a scripted Redis and a manual clock.
struct LimiterFixture {
    let clock: ManualRatelimiterClock
    let redis: ScriptedRedis
    let rules: RuleStore
    let guardian: RedisGuard
    let limiter: RateLimiter

    init(
        rules: [RateLimitRule], unixSeconds: Int64 = minuteStart, deadline: Duration = .milliseconds(50),
        breaker: CircuitBreaker.Configuration = .init(failureThreshold: 2, backoff: .init(initial: .seconds(1), max: .seconds(4), jitter: 0)),
        cacheCapacity: Int = 1000
    ) throws {
        clock = ManualRatelimiterClock(unixSeconds: unixSeconds)
        redis = ScriptedRedis(clock: clock.clock)
        self.rules = RuleStore(rules: try RuleSet(rules: rules), version: "test")
        guardian = RedisGuard(redis: redis, clock: clock, deadline: deadline, breaker: breaker, logger: quietLogger)
        limiter = RateLimiter(
            rules: self.rules, redis: guardian, cache: OverLimitCache(capacity: cacheCapacity), clock: clock)
    }

    /// Decides one descriptor of `value` with `hits`.
    func hit(_ value: String, hits: UInt64 = 1) async -> DescriptorStatus {
        await limiter.decide([.rule(descriptorValue: value, hits: hits)])[0]
    }
}

/// A `ShouldRateLimit` request with one `apk.rule` descriptor per value.
func rlsRequest(
    _ values: [String], domain: String = "apk", hitsAddend: UInt32 = 0
) -> Envoy_Service_Ratelimit_V3_RateLimitRequest {
    var request = Envoy_Service_Ratelimit_V3_RateLimitRequest()
    request.domain = domain
    request.hitsAddend = hitsAddend
    request.descriptors = values.map { value in
        var entry = Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor.Entry()
        entry.key = RateLimitRule.descriptorKey
        entry.value = value
        var descriptor = Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor()
        descriptor.entries = [entry]
        return descriptor
    }
    return request
}
