import APKRatelimiter
import APKRedis
import APKTestSupport
import EnvoyProtos
import SwiftProtobuf
import Testing

/// The limiter over an in-memory Redis on a manual clock: counting, windows, hits_addend, the over-limit cache,
/// and failing open on a Redis that fails or hangs, with the deadline and the breaker (no real time passes).
@Suite struct RateLimiterTests {
    static let perMinute = RateLimitRule(descriptorValue: "api-1", requestsPerUnit: 3, unit: .minute)
    static let perSecond = RateLimitRule(descriptorValue: "op-1", requestsPerUnit: 2, unit: .second)

    @Test func allowsTheLimitThenRefusesUntilTheWindowEnds() async throws {
        let fixture = try LimiterFixture(rules: [Self.perMinute])
        var decisions: [DescriptorStatus.Decision] = []
        var remaining: [UInt32] = []
        for _ in 0..<5 {
            let status = await fixture.hit("api-1")
            decisions.append(status.decision)
            remaining.append(status.remaining)
            #expect(status.rule == Self.perMinute)
            #expect(status.resetIn == .seconds(60))
        }
        #expect(decisions == [.ok, .ok, .ok, .overLimitCached, .overLimitCached])
        #expect(remaining == [2, 1, 0, 0, 0])
        // The third hit reached the limit: the key is cached, so hits four and five never reached Redis.
        #expect(fixture.redis.pipelines == 3)
        #expect(fixture.redis.commands.prefix(2) == [
            ["INCRBY", "apk:rl:api-1:minute:1699999980", "1"], ["EXPIRE", "apk:rl:api-1:minute:1699999980", "60", "NX"],
        ])

        fixture.clock.advance(by: .seconds(59))
        let late = await fixture.hit("api-1")
        #expect(late.decision == .overLimitCached && late.resetIn == .seconds(1))
        // The next minute is a new window and a new key.
        fixture.clock.advance(by: .seconds(1))
        let next = await fixture.hit("api-1")
        #expect(next.decision == .ok && next.remaining == 2 && next.resetIn == .seconds(60))
        #expect(fixture.redis.commands.last == ["EXPIRE", "apk:rl:api-1:minute:1700000040", "60", "NX"])
    }

    @Test func withoutTheCacheRedisSaysOverLimit() async throws {
        let fixture = try LimiterFixture(rules: [Self.perMinute], cacheCapacity: 0)
        var decisions: [DescriptorStatus.Decision] = []
        for _ in 0..<4 { decisions.append(await fixture.hit("api-1").decision) }
        #expect(decisions == [.ok, .ok, .ok, .overLimit])
        #expect(fixture.redis.pipelines == 4)
    }

    @Test func hitsAddendCountsSeveralHitsAndZeroOnlyReads() async throws {
        let fixture = try LimiterFixture(rules: [RateLimitRule(descriptorValue: "tokens", requestsPerUnit: 10, unit: .hour)])
        let first = await fixture.hit("tokens", hits: 4)
        #expect(first.decision == .ok && first.remaining == 6)
        let read = await fixture.hit("tokens", hits: 0)
        #expect(read.decision == .ok && read.remaining == 6)
        let second = await fixture.hit("tokens", hits: 6)
        #expect(second.decision == .ok && second.remaining == 0)
        // Exhausted: a read still answers OK (nothing counted), a hit is refused locally.
        #expect(await fixture.hit("tokens", hits: 0).decision == .ok)
        #expect(await fixture.hit("tokens", hits: 1).decision == .overLimitCached)
    }

    /// Local-share mode: the routers pass `localShareReserved` hits per window on their own; what reaches the
    /// ratelimiter is counted against the rest, while the answer still names the whole limit.
    @Test func localShareModeCountsAgainstWhatTheSharesLeave() async throws {
        let rule = RateLimitRule(descriptorValue: "api-1", requestsPerUnit: 10, unit: .minute, localShareReserved: 7)
        #expect(rule.countedLimit == 3)
        let fixture = try LimiterFixture(rules: [rule])
        var seen: [(DescriptorStatus.Decision, UInt32)] = []
        for _ in 0..<4 {
            let status = await fixture.hit("api-1")
            seen.append((status.decision, status.remaining))
        }
        #expect(seen.map(\.0) == [.ok, .ok, .ok, .overLimitCached])
        #expect(seen.map(\.1) == [2, 1, 0, 0])
        let answer = RateLimitService.response([await fixture.hit("api-1")])
        #expect(answer.overallCode == .overLimit)
        #expect(answer.statuses.first?.currentLimit.requestsPerUnit == 10)
    }

    @Test func hitsAddendOverTheLimitIsRefused() async throws {
        let fixture = try LimiterFixture(rules: [RateLimitRule(descriptorValue: "tokens", requestsPerUnit: 10, unit: .hour)])
        #expect(await fixture.hit("tokens", hits: 8).decision == .ok)
        let over = await fixture.hit("tokens", hits: 5)
        #expect(over.decision == .overLimit && over.remaining == 0)
    }

    @Test func oneRequestOnePipelineForEveryLimitedDescriptor() async throws {
        let fixture = try LimiterFixture(rules: [Self.perMinute, Self.perSecond])
        let statuses = await fixture.limiter.decide([
            .rule(descriptorValue: "api-1", hits: 1), .malformed, .rule(descriptorValue: "nobody", hits: 1),
            .rule(descriptorValue: "op-1", hits: 2),
        ])
        #expect(statuses.map(\.decision) == [.ok, .malformed, .noRule, .ok])
        #expect(statuses.map(\.remaining) == [2, 0, 0, 0])
        #expect(statuses[1].rule == nil && statuses[2].rule == nil && statuses[2].resetIn == .zero)
        #expect(fixture.redis.pipelines == 1)
        #expect(fixture.redis.commands.count == 4)  // INCRBY + EXPIRE for each of the two rules
        // op-1 is exhausted now; api-1 is not: the next request asks Redis for api-1 only, and is refused overall.
        let next = await fixture.limiter.decide([.rule(descriptorValue: "api-1", hits: 1), .rule(descriptorValue: "op-1", hits: 1)])
        #expect(next.map(\.decision) == [.ok, .overLimitCached])
        #expect(fixture.redis.commands.count == 6)
        let response = RateLimitService.response(next)
        #expect(response.overallCode == .overLimit)
        #expect(response.statuses.map(\.code) == [.ok, .overLimit])
        #expect(response.statuses[0].currentLimit.requestsPerUnit == 3 && response.statuses[0].currentLimit.unit == .minute)
        #expect(response.statuses[0].limitRemaining == 1)
        #expect(response.statuses[1].durationUntilReset.seconds == 1 && response.statuses[1].durationUntilReset.nanos == 0)
    }

    @Test func secondWindowsRollOverEverySecond() async throws {
        let fixture = try LimiterFixture(rules: [Self.perSecond])
        fixture.clock.advance(by: .milliseconds(400))
        #expect(await fixture.hit("op-1", hits: 2).decision == .ok)
        let over = await fixture.hit("op-1")
        #expect(over.decision == .overLimitCached && over.resetIn == .milliseconds(600))
        fixture.clock.advance(by: .milliseconds(600))
        #expect(await fixture.hit("op-1").decision == .ok)
    }

    @Test func rulesChangeWithoutLosingCounts() async throws {
        let fixture = try LimiterFixture(rules: [Self.perMinute])
        for _ in 0..<3 { _ = await fixture.hit("api-1") }
        fixture.rules.replace(
            with: try RuleSet(rules: [RateLimitRule(descriptorValue: "api-1", requestsPerUnit: 5, unit: .minute)]),
            version: "v2")
        // The cached entry names the same key: the cache still refuses until the window ends. That is the price of
        // a cache without a Redis read; a raised limit applies from the next window on.
        #expect(await fixture.hit("api-1").decision == .overLimitCached)
        fixture.rules.replace(with: .empty, version: "v3")
        #expect(await fixture.hit("api-1").decision == .noRule)
    }

    @Test func failingRedisFailsOpenThenTheBreakerSkipsIt() async throws {
        let fixture = try LimiterFixture(rules: [Self.perMinute])  // breaker: 2 failures, 1 s back-off
        fixture.redis.mode = .fail
        let failed = await fixture.hit("api-1")
        #expect(failed.decision == .failOpen && failed.remaining == 3 && failed.rule == Self.perMinute)
        #expect(await fixture.hit("api-1").decision == .failOpen)
        #expect(fixture.guardian.breakerState == .open(until: .seconds(1), attempt: 0))
        // Open: Redis is not asked at all.
        let sent = fixture.redis.pipelines
        for _ in 0..<10 { #expect(await fixture.hit("api-1").decision == .failOpen) }
        #expect(fixture.redis.pipelines == sent)
        // Redis is back; after the back-off one probe closes the breaker and limits are enforced again.
        fixture.redis.mode = .answer
        fixture.clock.advance(by: .seconds(1))
        #expect(await fixture.hit("api-1").decision == .ok)
        #expect(fixture.guardian.breakerState == .closed(consecutiveFailures: 0))
        #expect(await fixture.hit("api-1").decision == .ok)
        #expect(await fixture.hit("api-1").decision == .ok)
        #expect(await fixture.hit("api-1").decision == .overLimitCached)
    }

    @Test func hangingRedisIsAnsweredAtTheDeadline() async throws {
        let fixture = try LimiterFixture(rules: [Self.perMinute], deadline: .milliseconds(50))
        fixture.redis.mode = .hang
        let pending = Task { await fixture.hit("api-1") }
        // The decision waits on the deadline's sleep (and on Redis); time moves only when the test says so.
        #expect(try await Poll.until { fixture.clock.clock.sleeperCount == 1 })
        fixture.clock.advance(by: .milliseconds(49))
        #expect(fixture.clock.clock.sleeperCount == 1)
        fixture.clock.advance(by: .milliseconds(1))
        let status = await pending.value
        #expect(status.decision == .failOpen)
        #expect(fixture.guardian.breakerState == .closed(consecutiveFailures: 1))

        // The second timeout opens the breaker: from then on no request waits at all.
        let second = Task { await fixture.hit("api-1") }
        #expect(try await Poll.until { fixture.clock.clock.sleeperCount == 1 })
        fixture.clock.advance(by: .milliseconds(50))
        #expect(await second.value.decision == .failOpen)
        #expect(fixture.guardian.breakerState == .open(until: .milliseconds(1100), attempt: 0))
        let sent = fixture.redis.pipelines
        #expect(await fixture.hit("api-1").decision == .failOpen)  // returns without the clock moving
        #expect(fixture.redis.pipelines == sent)

        // The probe hangs too: the breaker opens again, for longer.
        fixture.clock.advance(by: .seconds(1))
        let probe = Task { await fixture.hit("api-1") }
        #expect(try await Poll.until { fixture.clock.clock.sleeperCount == 1 })
        #expect(await fixture.hit("api-1").decision == .failOpen)  // others skip Redis while the probe is out
        fixture.clock.advance(by: .milliseconds(50))
        #expect(await probe.value.decision == .failOpen)
        #expect(fixture.guardian.breakerState == .open(until: .milliseconds(3150), attempt: 1))
    }

    @Test func aRedisErrorReplyFailsOpenForThatDescriptor() async throws {
        let fixture = try LimiterFixture(rules: [Self.perMinute])
        // Another client wrote a string where the counter should be.
        let window = FixedWindow(unit: .minute, containing: fixture.clock.unixNanoseconds)
        let key = CounterKey.make(descriptorValue: "api-1", window: window)
        _ = try await fixture.redis.send(["SET", key, "not a number"])
        #expect(await fixture.hit("api-1").decision == .failOpen)
        #expect(fixture.guardian.breakerState == .closed(consecutiveFailures: 0))  // Redis itself answered
    }
}
