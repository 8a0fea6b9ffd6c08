import APKRatelimiter
import APKRedis
import APKTestSupport
import EnvoyGRPC
import EnvoyProtos
import GRPCCore
import SwiftProtobuf
import Synchronization
import Testing

/// The ratelimiter as its main builds it (gRPC server, Redis pool) against a real `redis-server` that each test
/// starts on a free loopback port, called through a grpc-swift-2 client: exact quotas, one quota for two instances,
/// and Redis killed or frozen under load. Wall time is frozen inside one minute (no window rolls over mid-test);
/// deadlines and back-offs run in real time. Fails (does not skip) when `redis-server` is missing.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct RedisIntegrationTests {
    static let unixStart = minuteStart + 10  // 22:13:10Z: 50 s left in the minute

    private static func code(_ response: Envoy_Service_Ratelimit_V3_RateLimitResponse) -> String {
        response.overallCode == .overLimit ? "OVER" : response.overallCode == .ok ? "OK" : "?"
    }

    @Test func aLimitOfNPerMinuteAllowsExactlyNThroughGRPC() async throws {
        let redis = try await RedisServerProcess.start()
        defer { redis.stop() }
        let rule = RateLimitRule(descriptorValue: "api-it", requestsPerUnit: 5, unit: .minute)
        let clock = FrozenWallClock(unixSeconds: Self.unixStart)
        let ratelimiter = try await RunningRatelimiter.start(.counting(rules: [rule], redisPort: redis.port), clock: clock)
        defer { ratelimiter.task.cancel() }

        let responses = try await ratelimiter.withClient { client in
            var responses: [Envoy_Service_Ratelimit_V3_RateLimitResponse] = []
            for _ in 0..<8 { responses.append(try await client.shouldRateLimit(rlsRequest(["api-it"]))) }
            return responses
        }
        #expect(responses.map(Self.code) == ["OK", "OK", "OK", "OK", "OK", "OVER", "OVER", "OVER"])
        #expect(responses.map { $0.statuses[0].limitRemaining } == [4, 3, 2, 1, 0, 0, 0, 0])
        for response in responses {
            let status = response.statuses[0]
            #expect(status.currentLimit.requestsPerUnit == 5 && status.currentLimit.unit == .minute)
            #expect(status.durationUntilReset.seconds == 50)
        }

        // In Redis: one counter for the window, expiring with it; hits past the limit were answered locally.
        let connection = try await RESPConnection.connect(
            configuration: redis.configuration(), logger: RedisServerProcess.quietLogger)
        let key = "apk:rl:api-it:minute:\(minuteStart)"
        #expect(try await connection.send(["GET", key]) == .bulkString("5"))
        let ttl = try #require(try await connection.send(["TTL", key]).integer)
        #expect((1...60).contains(ttl))
        await connection.close()

        // Unknown and malformed descriptors are allowed without a limit; a bad request is refused with its code.
        let mixed = try await ratelimiter.withClient { client in
            var request = rlsRequest(["api-it", "unknown-rule", "x"])
            request.descriptors[2].entries[0].key = "remote_address"
            return try await client.shouldRateLimit(request)
        }
        #expect(mixed.overallCode == .overLimit)
        #expect(mixed.statuses.map(\.code) == [.overLimit, .ok, .ok])
        #expect(!mixed.statuses[1].hasCurrentLimit && !mixed.statuses[2].hasCurrentLimit)
        do {
            _ = try await ratelimiter.withClient { try await $0.shouldRateLimit(rlsRequest(["api-it"], domain: "Default")) }
            Issue.record("another domain must be refused")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.hasPrefix("ratelimit_invalid_domain"))
        }
        await ratelimiter.stop()
    }

    @Test func twoInstancesSharingOneRedisEnforceOneQuota() async throws {
        let redis = try await RedisServerProcess.start()
        defer { redis.stop() }
        let rule = RateLimitRule(descriptorValue: "shared", requestsPerUnit: 7, unit: .minute)
        let clock = FrozenWallClock(unixSeconds: Self.unixStart)
        let configuration = try RatelimiterConfiguration.counting(rules: [rule], redisPort: redis.port)
        let first = try await RunningRatelimiter.start(configuration, clock: clock)
        defer { first.task.cancel() }
        let second = try await RunningRatelimiter.start(configuration, clock: clock)
        defer { second.task.cancel() }

        // 30 requests, 15 per instance, all at once: concurrent requests share each instance's pipeline.
        let codes = try await withThrowingTaskGroup(of: [String].self) { group in
            for instance in [first, second] {
                group.addTask {
                    try await instance.withClient { client in
                        try await withThrowingTaskGroup(of: String.self) { calls in
                            for _ in 0..<15 {
                                calls.addTask { Self.code(try await client.shouldRateLimit(rlsRequest(["shared"]))) }
                            }
                            return try await calls.reduce(into: []) { $0.append($1) }
                        }
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(codes.count == 30)
        #expect(codes.filter { $0 == "OK" }.count == 7)
        #expect(codes.filter { $0 == "OVER" }.count == 23)
        await first.stop()
        await second.stop()
    }

    /// Requests sent back to back by `workers` clients until `stop` is set: codes, errors and the slowest answer.
    final class Load: Sendable {
        struct Tally: Sendable {
            var answers = 0
            var notOK = 0
            var errors: [String] = []
            var slowest: Duration = .zero
        }

        let tally = Mutex(Tally())
        let stopped = Atomic(false)

        func run(on ratelimiter: RunningRatelimiter, workers: Int, value: String) async throws {
            try await ratelimiter.withClient { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<workers {
                        group.addTask {
                            while !self.stopped.load(ordering: .relaxed) {
                                let started = ContinuousClock.now
                                do {
                                    let response = try await client.shouldRateLimit(rlsRequest([value]))
                                    let elapsed = ContinuousClock.now - started
                                    self.tally.withLock {
                                        $0.answers += 1
                                        if response.overallCode != .ok { $0.notOK += 1 }
                                        $0.slowest = max($0.slowest, elapsed)
                                    }
                                } catch {
                                    self.tally.withLock { $0.errors.append("\(error)") }
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }

        var answers: Int { tally.withLock { $0.answers } }
    }

    /// Sends `value` until an answer is OVER_LIMIT (the limit is enforced again); false at the hang limit.
    private static func untilOverLimit(_ ratelimiter: RunningRatelimiter, _ value: String) async throws -> Bool {
        try await ratelimiter.withClient { client in
            try await Poll.until(every: .milliseconds(20)) {
                try await client.shouldRateLimit(rlsRequest([value])).overallCode == .overLimit
            }
        }
    }

    @Test func redisKilledUnderLoadFailsOpenAndLimitsResumeWhenItIsBack() async throws {
        try await outageUnderLoad(fault: { $0.kill() }, recover: { try await $0.restart() })
    }

    /// SIGSTOP: connections stay open, nothing is answered — only the deadline ends the wait.
    @Test func frozenRedisIsAnsweredAtTheDeadlineAndTheBreakerStopsTheWaiting() async throws {
        try await outageUnderLoad(fault: { $0.pause() }, recover: { $0.resume() })
    }

    /// A ratelimiter under load from 4 callers while `fault` hits its Redis: every answer is OK, none waits on Redis,
    /// the breaker opens; after `recover`, limits are enforced again and the breaker closes.
    private func outageUnderLoad(
        fault: (RedisServerProcess) -> Void, recover: (RedisServerProcess) async throws -> Void
    ) async throws {
        let redis = try await RedisServerProcess.start()
        defer { redis.stop() }
        let rules = [
            RateLimitRule(descriptorValue: "load", requestsPerUnit: 1_000_000, unit: .minute),
            RateLimitRule(descriptorValue: "small", requestsPerUnit: 3, unit: .minute),
        ]
        let ratelimiter = try await RunningRatelimiter.start(
            .testing(rules: rules, redisPort: redis.port), clock: FrozenWallClock(unixSeconds: Self.unixStart))
        defer { ratelimiter.task.cancel() }
        let redisGuard = ratelimiter.application.redisGuard
        let load = Load()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await load.run(on: ratelimiter, workers: 4, value: "load") }
            #expect(try await Poll.until { load.answers >= 50 })
            fault(redis)
            #expect(try await Poll.until { redisGuard.breakerState != .closed(consecutiveFailures: 0) && load.answers >= 100 })
            let before = load.answers
            #expect(try await Poll.until { load.answers >= before + 200 })  // the outage, under load
            load.stopped.store(true, ordering: .relaxed)
            try await group.waitForAll()
        }
        let tally = load.tally.withLock { $0 }
        #expect(tally.errors.isEmpty, "\(tally.errors.prefix(3))")
        #expect(tally.notOK == 0)
        // A hang detector, not a timing target (`swift test` runs every suite at once on two cores, so an answer can
        // wait seconds for a thread): Redis' own timeouts are 60 s here, so an answer that waited on Redis instead of
        // the 50 ms deadline would take a minute. The deadline itself is timed exactly in RateLimiterTests.
        #expect(tally.slowest < .seconds(20), "slowest answer \(tally.slowest)")

        try await recover(redis)
        #expect(try await Self.untilOverLimit(ratelimiter, "small"), "limits resume once Redis answers again")
        #expect(redisGuard.breakerState == .closed(consecutiveFailures: 0))
        await ratelimiter.stop()
    }
}
