import Synchronization

/// How many ``GatewayStack``s run at once: one. A stack is five to six processes (apk-echo, apk-deployer, apk-adapter,
/// Envoy, perhaps apk-enforcer) that all start at once; several of them together with the CPU-bound unit suites left
/// nothing for the tests with deadlines on two cores (a 50 MiB upload and a 3 s fetch timed out once in a full run).
/// Stacks run one after another instead; the integration tests take a little longer and nothing starves.
package enum StackSlots {
    private static let state = Mutex<(free: Int, waiting: [CheckedContinuation<Void, Never>])>((1, []))

    /// Waits for a slot (first come, first served).
    package static func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.free > 0 {
                    state.free -= 1
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    /// Gives a slot back: to the next waiter, else to the pool.
    package static func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.free += 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
