import APKRedis
import Testing

/// The in-memory stand-in behaves like Redis 7 for what a rate limiter uses (INCRBY, EXPIRE with NX/XX/GT/LT, TTL,
/// GET/SET/DEL/PING) on a manual clock, so limiter tests can move time instead of sleeping.
@Suite struct InMemoryRedisClientTests {
    let clock = ManualClock()

    @Test func incrbyCountsAndKeepsTheExpiry() async throws {
        let redis = InMemoryRedisClient(clock: clock)
        #expect(try await redis.send(["INCRBY", "k", "5"]) == .integer(5))
        #expect(try await redis.send(["incrby", "k", "-7"]) == .integer(-2))
        #expect(try await redis.send(["EXPIRE", "k", "10"]) == .integer(1))
        #expect(try await redis.send(["INCRBY", "k", "1"]) == .integer(-1))
        #expect(try await redis.send(["TTL", "k"]) == .integer(10))  // INCRBY leaves the expiry alone
        #expect(try await redis.send(["GET", "k"]) == .bulkString("-1"))

        #expect(try await redis.send(["SET", "text", "abc"]) == .simpleString("OK"))
        let notAnInteger = "ERR value is not an integer or out of range"
        #expect(try await redis.send(["INCRBY", "text", "1"]).errorMessage == notAnInteger)
        #expect(try await redis.send(["INCRBY", "k", "x"]).errorMessage == notAnInteger)
        #expect(try await redis.send(["SET", "big", String(Int64.max)]) == .simpleString("OK"))
        #expect(
            try await redis.send(["INCRBY", "big", "1"]).errorMessage == "ERR increment or decrement would overflow")
        #expect(
            try await redis.send(["INCRBY", "k"]).errorMessage
                == "ERR wrong number of arguments for 'incrby' command")
    }

    @Test func expireNXSetsOnlyTheFirstExpiry() async throws {
        let redis = InMemoryRedisClient(clock: clock)
        #expect(try await redis.send(["EXPIRE", "missing", "10", "NX"]) == .integer(0))
        _ = try await redis.send(["INCRBY", "window", "1"])
        #expect(try await redis.send(["EXPIRE", "window", "60", "NX"]) == .integer(1))
        clock.advance(by: .seconds(20))
        #expect(try await redis.send(["EXPIRE", "window", "60", "NX"]) == .integer(0))
        #expect(try await redis.send(["TTL", "window"]) == .integer(40))
        #expect(try await redis.send(["EXPIRE", "window", "30", "GT"]) == .integer(0))
        #expect(try await redis.send(["EXPIRE", "window", "50", "GT"]) == .integer(1))
        #expect(try await redis.send(["EXPIRE", "window", "45", "LT"]) == .integer(1))
        #expect(try await redis.send(["EXPIRE", "window", "10", "XX"]) == .integer(1))
        let conflict = try await redis.send(["EXPIRE", "window", "10", "NX", "XX"])
        #expect(conflict.errorMessage?.hasPrefix("ERR NX and XX") == true)
        #expect(try await redis.send(["EXPIRE", "window", "10", "SOON"]).errorMessage == "ERR Unsupported option SOON")
    }

    @Test func ttlCountsDownAndKeysExpireAtTheDeadline() async throws {
        let redis = InMemoryRedisClient(clock: clock)
        #expect(try await redis.send(["TTL", "k"]) == .integer(-2))
        _ = try await redis.send(["SET", "k", "v"])
        #expect(try await redis.send(["TTL", "k"]) == .integer(-1))
        _ = try await redis.send(["EXPIRE", "k", "2"])
        clock.advance(by: .milliseconds(1_400))
        #expect(try await redis.send(["PTTL", "k"]) == .integer(600))
        #expect(try await redis.send(["TTL", "k"]) == .integer(1))  // rounded, as Redis does
        clock.advance(by: .milliseconds(600))
        #expect(try await redis.send(["GET", "k"]) == .bulkString("v"))  // alive at its deadline exactly
        clock.advance(by: .milliseconds(1))
        #expect(try await redis.send(["GET", "k"]) == .nullBulkString)
        #expect(try await redis.send(["TTL", "k"]) == .integer(-2))
        #expect(redis.keys.isEmpty)

        // Counting starts afresh once the window key expired (the fixed-window limiter's pattern).
        let replies = try await redis.pipeline([["INCRBY", "k", "1"], ["EXPIRE", "k", "60", "NX"], ["TTL", "k"]])
        #expect(replies == [.integer(1), .integer(1), .integer(60)])
        #expect(try await redis.send(["EXPIRE", "k", "0"]) == .integer(1))  // a past deadline deletes the key
        #expect(try await redis.send(["EXISTS", "k"]) == .integer(0))
    }

    @Test func getSetDelAndPing() async throws {
        let redis = InMemoryRedisClient(clock: clock)
        #expect(try await redis.send(["PING"]) == .simpleString("PONG"))
        #expect(try await redis.send(["PING", "hi"]) == .bulkString("hi"))
        #expect(try await redis.send(["SET", "a", "1", "NX", "PX", "1500"]) == .simpleString("OK"))
        #expect(try await redis.send(["SET", "a", "2", "NX"]) == .nullBulkString)
        #expect(try await redis.send(["SET", "a", "3", "XX", "KEEPTTL"]) == .simpleString("OK"))
        #expect(try await redis.send(["PTTL", "a"]) == .integer(1500))
        #expect(try await redis.send(["SET", "a", "4"]) == .simpleString("OK"))
        #expect(try await redis.send(["TTL", "a"]) == .integer(-1))  // a plain SET clears the expiry
        #expect(
            try await redis.send(["SET", "a", "5", "EX", "0"]).errorMessage
                == "ERR invalid expire time in 'set' command")
        #expect(try await redis.send(["SET", "b", "x"]) == .simpleString("OK"))
        #expect(try await redis.send(["DEL", "a", "b", "c"]) == .integer(2))
        #expect(try await redis.send(["HGET", "h", "f"]).errorMessage == "ERR unknown command 'HGET'")
    }

    @Test func manualClockWakesSleepersWhenAdvanced() async throws {
        let clock = ManualClock()
        let start = clock.now
        try await clock.sleep(until: start)  // a deadline already reached returns at once
        async let slept: Void = clock.sleep(until: start.advanced(by: .seconds(5)))
        while clock.sleeperCount == 0 { await Task.yield() }
        clock.advance(by: .seconds(4))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        try await slept
        #expect(clock.sleeperCount == 0)

        let cancelled = Task { try await clock.sleep(until: clock.now.advanced(by: .seconds(1))) }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(clock.sleeperCount == 0)
    }
}
