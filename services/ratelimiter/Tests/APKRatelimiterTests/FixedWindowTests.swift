import APKProtos
import APKRatelimiter
import EnvoyProtos
import Testing

/// Window alignment in UTC at unit boundaries, reset times and the counter key (pure).
@Suite struct FixedWindowTests {
    static let second: Int64 = 1_000_000_000
    /// 2024-03-01T00:00:00Z: a day, hour, minute and second boundary at once.
    static let midnight: Int64 = 1_709_251_200

    struct Case: Sendable, CustomTestStringConvertible {
        var unit: RateLimitUnit
        /// Instant, in nanoseconds since the epoch.
        var at: Int64
        var start: Int64
        var testDescription: String { "\(unit) at \(at)" }
    }

    static let boundaries: [Case] = [
        // Exactly on the boundary: the new window.
        Case(unit: .second, at: midnight * second, start: midnight),
        Case(unit: .minute, at: midnight * second, start: midnight),
        Case(unit: .hour, at: midnight * second, start: midnight),
        Case(unit: .day, at: midnight * second, start: midnight),
        // One nanosecond before: the previous window.
        Case(unit: .second, at: midnight * second - 1, start: midnight - 1),
        Case(unit: .minute, at: midnight * second - 1, start: midnight - 60),
        Case(unit: .hour, at: midnight * second - 1, start: midnight - 3600),
        Case(unit: .day, at: midnight * second - 1, start: midnight - 86_400),
        // Inside: 12:34:56.789 the same day.
        Case(unit: .second, at: (midnight + 45_296) * second + 789_000_000, start: midnight + 45_296),
        Case(unit: .minute, at: (midnight + 45_296) * second + 789_000_000, start: midnight + 45_240),
        Case(unit: .hour, at: (midnight + 45_296) * second + 789_000_000, start: midnight + 43_200),
        Case(unit: .day, at: (midnight + 45_296) * second + 789_000_000, start: midnight),
        // Last nanosecond of the day.
        Case(unit: .day, at: (midnight + 86_400) * second - 1, start: midnight),
        // Before the epoch, floor (not truncation) keeps windows aligned.
        Case(unit: .minute, at: -1, start: -60),
        Case(unit: .day, at: -86_400 * second, start: -86_400),
    ]

    @Test(arguments: boundaries)
    func windowsAreAlignedToTheUnitInUTC(_ example: Case) {
        let window = FixedWindow(unit: example.unit, containing: example.at)
        #expect(window.start == example.start)
        #expect(window.end == example.start + example.unit.seconds)
        #expect(window.start % example.unit.seconds == 0)
        let untilEnd = window.timeUntilEnd(fromUnixNanoseconds: example.at)
        #expect(untilEnd > .zero && untilEnd <= .seconds(example.unit.seconds))
    }

    @Test func resetTimeCountsDownToTheNextWindow() {
        let at = (Self.midnight + 59) * Self.second + 250_000_000  // 00:00:59.25
        let window = FixedWindow(unit: .minute, containing: at)
        #expect(window.timeUntilEnd(fromUnixNanoseconds: at) == .milliseconds(750))
        #expect(window.timeUntilEnd(fromUnixNanoseconds: Self.midnight * Self.second) == .seconds(60))
        #expect(window.timeUntilEnd(fromUnixNanoseconds: (Self.midnight + 61) * Self.second) == .zero)
    }

    @Test func counterKeyNamesRuleUnitAndWindowStart() {
        let window = FixedWindow(unit: .minute, containing: (Self.midnight + 30) * Self.second)
        #expect(CounterKey.make(descriptorValue: "api-7f3a", window: window) == "apk:rl:api-7f3a:minute:1709251200")
        let day = FixedWindow(unit: .day, containing: (Self.midnight + 30) * Self.second)
        #expect(CounterKey.make(descriptorValue: "op:GET:prod", window: day) == "apk:rl:op:GET:prod:day:1709251200")
        // The next window is another key; another unit too.
        let next = FixedWindow(unit: .minute, containing: (Self.midnight + 60) * Self.second)
        #expect(CounterKey.make(descriptorValue: "api-7f3a", window: next) == "apk:rl:api-7f3a:minute:1709251260")
    }

    @Test func unitsMapFromDiscoveryAndToEnvoy() {
        #expect(RateLimitUnit(.minute) == .minute)
        #expect(RateLimitUnit(.day) == .day)
        #expect(RateLimitUnit(.unspecified) == nil)
        #expect(RateLimitUnit(.UNRECOGNIZED(9)) == nil)
        #expect(RateLimitUnit.hour.envoyUnit == .hour)
        #expect(RateLimitUnit.allCases.map(\.seconds) == [1, 60, 3600, 86_400])
    }
}
