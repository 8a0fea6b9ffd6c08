import Foundation

/// The one retry back-off of every APK process (xDS reconnects, store bootstrap and re-lists): exponential, capped,
/// with proportional jitter.
///
/// Retry number `n` (0 for the first retry after a stream ended) waits `min(initial × multiplierⁿ, max)`, moved by up
/// to ± `jitter` of itself and never more than `max`. The defaults are Envoy's for its own xDS streams (500 ms base,
/// 30 s cap) with gRPC's ± 20 % jitter. Out-of-range values are clamped, never trapped on: `initial` at least 1 ms,
/// `max` at least `initial` (and at most 10⁶ s), `multiplier` at least 1, `jitter` within 0…1.
package struct Backoff: Sendable, Hashable {
    /// The delay before the first retry.
    package var initial: Duration
    /// The longest delay between two attempts.
    package var max: Duration
    /// The growth factor per consecutive failure.
    package var multiplier: Double
    /// The fraction of the delay randomised each way (0.2: between 80 % and 120 %).
    package var jitter: Double

    /// Creates a back-off policy (see the type's doc comment for the defaults).
    package init(
        initial: Duration = .milliseconds(500), max: Duration = .seconds(30), multiplier: Double = 2,
        jitter: Double = 0.2
    ) {
        self.initial = initial
        self.max = max
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// 500 ms initial, 30 s cap, doubling, ± 20 % jitter.
    package static let defaults = Backoff()

    /// The delay before retry number `attempt`; `random` (in 0..<1, clamped) chooses the jitter, 0.5 meaning none.
    package func delay(attempt: Int, random: Double) -> Duration {
        let first = Swift.max(Self.seconds(initial), 0.001)
        let cap = Swift.min(Swift.max(Self.seconds(max), first), Self.longestDelay)
        let factor = multiplier.isFinite ? Swift.max(multiplier, 1) : 1
        let spread = jitter.isFinite ? Swift.min(Swift.max(jitter, 0), 1) : 0
        let unit = random.isFinite ? Swift.min(Swift.max(random, 0), 1) : 0.5
        // Past 64 doublings every realistic policy has long reached its cap; the bound keeps `pow` finite.
        let exponent = Double(Swift.min(Swift.max(attempt, 0), 64))
        let base = Swift.min(first * Self.power(factor, exponent), cap)
        let jittered = base * (1 + spread * (2 * unit - 1))
        return .nanoseconds(Int64((Swift.min(Swift.max(jittered, 0), cap) * 1e9).rounded()))
    }

    /// An upper bound on any delay (about 11.5 days), so every delay fits in nanoseconds.
    private static let longestDelay = 1_000_000.0

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// `base` raised to a small non-negative integral `exponent`, saturating at the largest finite double.
    private static func power(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        var remaining = Int(exponent)
        while remaining > 0, result < .greatestFiniteMagnitude / base {
            result *= base
            remaining -= 1
        }
        return remaining > 0 ? .greatestFiniteMagnitude : result
    }
}

extension Backoff {
    /// Runs `operation` until it succeeds, waiting per this policy between failed attempts; `onFailure` is told
    /// about each failure with the wait before the next attempt. Returns nil, without waiting out the delay, when
    /// `shouldStop` becomes true (shutdown) or the task is cancelled.
    package func retry<Result: Sendable>(
        until shouldStop: @Sendable () -> Bool = { false },
        sleep: @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) },
        onFailure: (any Error, _ attempt: Int, _ delay: Duration) -> Void,
        _ operation: () async throws -> Result
    ) async -> Result? {
        var attempt = 0
        while !Task.isCancelled, !shouldStop() {
            do {
                return try await operation()
            } catch {
                let wait = delay(attempt: attempt, random: Double.random(in: 0..<1))
                onFailure(error, attempt, wait)
                attempt += 1
                await sleep(wait)
            }
        }
        return nil
    }
}
