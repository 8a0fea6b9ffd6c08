import Synchronization

/// A counting semaphore for key-derivation work with a bounded wait queue: at most `permits` derivations run at once,
/// at most `maxWaiting` callers wait (FIFO) and any further caller is refused at once, so a flood of token requests
/// costs at most `permits` CPU cores and a bounded amount of memory.
package final class KDFPermits: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Bool, Never>] = []
    }

    private let state: Mutex<State>
    private let maxWaiting: Int

    package init(permits: Int, maxWaiting: Int) {
        state = Mutex(State(available: max(permits, 1)))
        self.maxWaiting = max(maxWaiting, 0)
    }

    /// Waits for a permit; false (no permit taken) when the wait queue is full.
    package func acquire() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let decision: Bool? = state.withLock { state in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                guard state.waiters.count < maxWaiting else { return false }
                state.waiters.append(continuation)
                return nil
            }
            if let decision { continuation.resume(returning: decision) }
        }
    }

    /// Returns a permit: hands it to the longest waiter, if any.
    package func release() {
        let next: CheckedContinuation<Bool, Never>? = state.withLock { state in
            guard !state.waiters.isEmpty else {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume(returning: true)
    }

    /// Permits free and callers waiting (tests, metrics).
    package var snapshot: (available: Int, waiting: Int) { state.withLock { ($0.available, $0.waiters.count) } }
}
