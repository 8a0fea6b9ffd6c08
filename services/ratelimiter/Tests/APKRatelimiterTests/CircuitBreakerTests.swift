import APKRatelimiter
import APKSupport
import Testing

/// The breaker's state machine on explicit monotonic instants (no jitter: `random` 0.5).
@Suite struct CircuitBreakerTests {
    let configuration = CircuitBreaker.Configuration(
        failureThreshold: 3, backoff: Backoff(initial: .seconds(1), max: .seconds(4), multiplier: 2, jitter: 0.2))

    @Test func opensAfterConsecutiveFailuresOnly() {
        var breaker = CircuitBreaker(configuration: configuration)
        #expect(breaker.recordFailure(now: .zero, random: 0.5) == .none)
        #expect(breaker.recordFailure(now: .zero, random: 0.5) == .none)
        #expect(breaker.recordSuccess() == .none)  // a success resets the count
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        #expect(breaker.recordFailure(now: .zero, random: 0.5) == .none)
        #expect(breaker.recordFailure(now: .zero, random: 0.5) == .none)
        #expect(breaker.permit(now: .zero) == .allow)
        #expect(breaker.recordFailure(now: .seconds(10), random: 0.5) == .opened)
        #expect(breaker.state == .open(until: .seconds(11), attempt: 0))
        #expect(breaker.isOpen)
    }

    @Test func openSkipsRedisThenOneProbeDecides() {
        var breaker = CircuitBreaker(configuration: configuration)
        for _ in 0..<3 { _ = breaker.recordFailure(now: .zero, random: 0.5) }
        #expect(breaker.permit(now: .milliseconds(999)) == .reject)
        // Late failures of requests sent before it opened change nothing.
        #expect(breaker.recordFailure(now: .milliseconds(999), random: 0.5) == .none)
        #expect(breaker.permit(now: .seconds(1)) == .probe)
        #expect(breaker.permit(now: .seconds(1)) == .reject)  // one probe at a time
        // The probe fails: open again for twice as long.
        #expect(breaker.recordFailure(now: .seconds(1), random: 0.5) == .reopened)
        #expect(breaker.state == .open(until: .seconds(3), attempt: 1))
        #expect(breaker.permit(now: .seconds(3)) == .probe)
        #expect(breaker.recordFailure(now: .seconds(3), random: 0.5) == .reopened)
        #expect(breaker.permit(now: .seconds(7)) == .probe)
        #expect(breaker.recordFailure(now: .seconds(7), random: 0.5) == .reopened)
        #expect(breaker.state == .open(until: .seconds(11), attempt: 3))  // capped at 4 s
        // The probe succeeds: closed, every request uses Redis again.
        #expect(breaker.permit(now: .seconds(11)) == .probe)
        #expect(breaker.recordSuccess() == .closed)
        #expect(breaker.permit(now: .seconds(11)) == .allow)
        #expect(!breaker.isOpen)
    }

    @Test func aSuccessWhileOpenDoesNotClose() {
        var breaker = CircuitBreaker(configuration: configuration)
        for _ in 0..<3 { _ = breaker.recordFailure(now: .zero, random: 0.5) }
        #expect(breaker.recordSuccess() == .none)
        #expect(breaker.isOpen)
    }
}
