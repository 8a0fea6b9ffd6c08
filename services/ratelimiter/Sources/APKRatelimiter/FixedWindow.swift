/// A fixed window aligned to its unit in UTC: seconds start on the second, minutes on the minute, hours on the hour
/// and days at 00:00:00Z. Every instance sharing Redis derives the same window from the same wall-clock second.
package struct FixedWindow: Sendable, Hashable {
    /// The window's unit.
    package var unit: RateLimitUnit
    /// The window's first second, in seconds since the epoch (a multiple of the unit's length).
    package var start: Int64

    /// The window that contains the instant `unixNanoseconds`.
    package init(unit: RateLimitUnit, containing unixNanoseconds: Int64) {
        self.unit = unit
        let second = Self.floorDivide(unixNanoseconds, 1_000_000_000)
        self.start = second - Self.floorModulo(second, unit.seconds)
    }

    /// The first second of the next window.
    package var end: Int64 { start + unit.seconds }

    /// The time from `unixNanoseconds` (inside the window) to the window's end: in `(0, unit]`; zero after the end.
    package func timeUntilEnd(fromUnixNanoseconds unixNanoseconds: Int64) -> Duration {
        let remaining = end &* 1_000_000_000 &- unixNanoseconds
        return .nanoseconds(max(remaining, 0))
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    private static func floorModulo(_ value: Int64, _ divisor: Int64) -> Int64 {
        let remainder = value % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }
}
