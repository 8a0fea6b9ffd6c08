/// The one way a test waits for something another task or process does: poll a condition until it holds.
///
/// The bound is a **hang detector, not a speed target**. `swift test` runs every test of the package at once on a
/// cooperative pool as wide as the machine (two threads here): while a few hundred CPU-bound tests are queued, a task
/// that wakes from a sleep waits behind them, so a condition that takes milliseconds alone can take tens of seconds
/// of wall time. A short bound then fails a correct test (CI once failed `AdapterServiceTests` this way: three
/// 5 ms retries had not been scheduled within 10 s while the unit suites started). Speed belongs in benchmarks.
package enum Poll {
    /// How long a condition may take before the test counts it as hung.
    package static let hangLimit: Duration = .seconds(120)

    /// Checks `condition` every `interval` until it holds (true) or `limit` passes (false, after a last check).
    package static func until(
        within limit: Duration = hangLimit, every interval: Duration = .milliseconds(10),
        _ condition: () async throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: interval)  // poll interval
        }
        return try await condition()
    }
}
