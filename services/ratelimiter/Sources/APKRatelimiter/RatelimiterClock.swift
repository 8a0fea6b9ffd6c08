import APKSupport
package import APKRedis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Time as the ratelimiter reads it: wall-clock time for windows, monotonic time for deadlines and the breaker.
///
/// Every instance that shares one Redis computes the same window keys from ``unixNanoseconds``, so their clocks must
/// agree (NTP); a skew of *s* seconds lets requests near a window boundary count in the neighbouring window for *s*.
package protocol RatelimiterClock: Sendable {
    /// Nanoseconds since 1970-01-01T00:00:00Z (UTC, no leap seconds: every day is 86,400 s).
    var unixNanoseconds: Int64 { get }
    /// Monotonic time since an arbitrary origin of this clock.
    var monotonic: Duration { get }
    /// Sleeps for `duration` of monotonic time; throws `CancellationError` at once when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The process's clocks: `CLOCK_REALTIME` and `ContinuousClock`.
package struct SystemRatelimiterClock: RatelimiterClock {
    private let origin = ContinuousClock.now

    /// Creates the system clock.
    package init() {}

    package var unixNanoseconds: Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
    }

    package var monotonic: Duration { origin.duration(to: .now) }

    package func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}

/// A clock for tests: both time lines move only with the ``ManualClock`` they wrap, wall time starting at
/// `unixStart` (nanoseconds since the epoch) when the manual clock is at zero.
package struct ManualRatelimiterClock: RatelimiterClock {
    /// The manual clock; tests call `advance(by:)` on it.
    package let clock: ManualClock
    /// Wall-clock time at the manual clock's zero, in nanoseconds since the epoch.
    package let unixStart: Int64

    /// Wraps `clock`; wall time is `unixStart` plus the manual clock's offset.
    package init(clock: ManualClock = ManualClock(), unixStart: Int64) {
        self.clock = clock
        self.unixStart = unixStart
    }

    /// Wraps `clock` with wall time starting at `unixSeconds` (whole seconds since the epoch).
    package init(clock: ManualClock = ManualClock(), unixSeconds: Int64) {
        self.init(clock: clock, unixStart: unixSeconds * 1_000_000_000)
    }

    package var unixNanoseconds: Int64 { unixStart + clock.now.offset.nanoseconds }

    package var monotonic: Duration { clock.now.offset }

    package func sleep(for duration: Duration) async throws {
        try await clock.sleep(until: clock.now.advanced(by: duration), tolerance: nil)
    }

    /// Moves both time lines forward.
    package func advance(by duration: Duration) {
        clock.advance(by: duration)
    }
}
