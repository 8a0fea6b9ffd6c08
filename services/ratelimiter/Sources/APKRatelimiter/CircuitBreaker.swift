package import APKSupport

/// Whether requests may use Redis (pure state machine; ``RedisGuard`` drives it with the monotonic clock).
///
/// - **Closed**: every request goes to Redis; `failureThreshold` consecutive failures (errors or deadlines) open it.
/// - **Open**: no request goes to Redis (each fails open at once: an outage costs no waiting) until the back-off
///   delay has passed; the delay grows per failed probe (``Backoff``: exponential, capped, jittered).
/// - **Probing**: the first request after the delay goes to Redis; the others still skip it. Success closes the
///   breaker (limits resume by themselves); failure opens it again for the next, longer delay.
package struct CircuitBreaker: Sendable, Equatable {
    /// When to open and how long to stay open.
    package struct Configuration: Sendable, Hashable {
        /// Consecutive failures that open the breaker (at least 1).
        package var failureThreshold: Int
        /// Delay before each probe: `initial` after opening, growing per failed probe up to `max`.
        package var backoff: Backoff

        /// Creates a configuration; by default 3 failures open it, and probes follow after 250 ms up to 5 s.
        package init(
            failureThreshold: Int = 3,
            backoff: Backoff = Backoff(initial: .milliseconds(250), max: .seconds(5), multiplier: 2, jitter: 0.2)
        ) {
            self.failureThreshold = failureThreshold
            self.backoff = backoff
        }
    }

    /// Where the breaker stands.
    package enum State: Sendable, Equatable {
        case closed(consecutiveFailures: Int)
        /// Open until the monotonic instant `until`; `attempt` counts the failed probes since it opened.
        case open(until: Duration, attempt: Int)
        /// One probe is out.
        case probing(attempt: Int)
    }

    /// What a request may do.
    package enum Permit: Sendable, Equatable {
        /// Use Redis.
        case allow
        /// Use Redis as the probe; report the outcome (it always comes: a request ends by the deadline).
        case probe
        /// Skip Redis (fail open).
        case reject
    }

    /// A change worth logging.
    package enum Transition: Sendable, Equatable {
        case none
        /// Closed → open: an outage began (logged once).
        case opened
        /// A probe failed: still down.
        case reopened
        /// A probe succeeded: the outage is over.
        case closed
    }

    /// Where the breaker stands now.
    package private(set) var state: State = .closed(consecutiveFailures: 0)
    private let configuration: Configuration

    /// A closed breaker.
    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// True while requests skip Redis (open or probing).
    package var isOpen: Bool {
        if case .closed = state { false } else { true }
    }

    /// Whether a request at monotonic time `now` may use Redis.
    package mutating func permit(now: Duration) -> Permit {
        switch state {
        case .closed:
            return .allow
        case .open(let until, let attempt):
            guard now >= until else { return .reject }
            state = .probing(attempt: attempt)
            return .probe
        case .probing:
            return .reject
        }
    }

    /// Redis answered.
    package mutating func recordSuccess() -> Transition {
        switch state {
        case .closed:
            state = .closed(consecutiveFailures: 0)
            return .none
        case .probing:
            state = .closed(consecutiveFailures: 0)
            return .closed
        case .open:
            return .none  // a request let through before the breaker opened; the probe decides
        }
    }

    /// Redis failed or missed the deadline at monotonic time `now`; `random` in 0..<1 picks the jitter.
    package mutating func recordFailure(now: Duration, random: Double) -> Transition {
        switch state {
        case .closed(let failures):
            guard failures + 1 >= max(configuration.failureThreshold, 1) else {
                state = .closed(consecutiveFailures: failures + 1)
                return .none
            }
            state = .open(until: now + configuration.backoff.delay(attempt: 0, random: random), attempt: 0)
            return .opened
        case .probing(let attempt):
            let next = min(attempt + 1, 64)
            state = .open(until: now + configuration.backoff.delay(attempt: next, random: random), attempt: next)
            return .reopened
        case .open:
            return .none
        }
    }
}
