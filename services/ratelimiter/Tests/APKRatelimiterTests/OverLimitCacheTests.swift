import APKRatelimiter
import Testing

/// The local over-limit cache: exhausted keys until their window ends, bounded.
@Suite struct OverLimitCacheTests {
    static let second: Int64 = 1_000_000_000

    @Test func keyIsExhaustedUntilItsWindowEnds() {
        let cache = OverLimitCache(capacity: 10)
        #expect(!cache.isExhausted("k", atUnixNanoseconds: 100 * Self.second))
        cache.markExhausted("k", untilUnixSecond: 120, atUnixNanoseconds: 100 * Self.second)
        #expect(cache.isExhausted("k", atUnixNanoseconds: 100 * Self.second))
        #expect(cache.isExhausted("k", atUnixNanoseconds: 120 * Self.second - 1))
        #expect(!cache.isExhausted("other", atUnixNanoseconds: 110 * Self.second))
        // At the window's end the entry is dropped.
        #expect(!cache.isExhausted("k", atUnixNanoseconds: 120 * Self.second))
        #expect(cache.count == 0)
    }

    @Test func fullCacheDropsEndedWindowsFirstThenEverything() {
        let cache = OverLimitCache(capacity: 10)
        for index in 0..<5 { cache.markExhausted("old\(index)", untilUnixSecond: 60, atUnixNanoseconds: 0) }
        for index in 0..<5 { cache.markExhausted("new\(index)", untilUnixSecond: 120, atUnixNanoseconds: 0) }
        #expect(cache.count == 10)
        // At 60 s the old windows have ended: they make room.
        cache.markExhausted("next", untilUnixSecond: 120, atUnixNanoseconds: 60 * Self.second)
        #expect(cache.count == 6)
        #expect(cache.isExhausted("new0", atUnixNanoseconds: 60 * Self.second))
        // Full of live entries: everything is dropped (an entry is only a shortcut), then the new one is kept.
        for index in 0..<4 { cache.markExhausted("more\(index)", untilUnixSecond: 120, atUnixNanoseconds: 60 * Self.second) }
        #expect(cache.count == 10)
        cache.markExhausted("last", untilUnixSecond: 120, atUnixNanoseconds: 60 * Self.second)
        #expect(cache.count == 1)
        #expect(cache.isExhausted("last", atUnixNanoseconds: 60 * Self.second))
        // Updating a held key never evicts.
        cache.markExhausted("last", untilUnixSecond: 180, atUnixNanoseconds: 60 * Self.second)
        #expect(cache.count == 1)
    }

    @Test func capacityZeroDisablesTheCache() {
        let cache = OverLimitCache(capacity: 0)
        cache.markExhausted("k", untilUnixSecond: 120, atUnixNanoseconds: 0)
        #expect(!cache.isExhausted("k", atUnixNanoseconds: 0))
        #expect(cache.count == 0)
    }
}
