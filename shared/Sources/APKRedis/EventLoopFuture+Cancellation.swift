import NIOCore
import Synchronization

extension EventLoopFuture where Value: Sendable {
    /// The future's value, or `CancellationError` as soon as the waiting task is cancelled.
    ///
    /// Unlike `get()`, a cancelled waiter does not wait for the future: a caller that races a Redis request against
    /// its own deadline (the ratelimiter) gets its answer at the deadline. The future itself is not cancelled — a
    /// command once written cannot be taken back — so its reply is still read and paired in FIFO order, then dropped.
    func valueUnlessCancelled() async throws -> Value {
        let waiter = CancellableWaiter<Value>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard waiter.install(continuation) else { return }
                whenComplete { waiter.resume(with: $0) }
            }
        } onCancel: {
            waiter.cancel()
        }
    }
}

/// The one continuation of ``EventLoopFuture/valueUnlessCancelled()``, resumed exactly once: by the future's result
/// or by cancellation, whichever comes first.
private final class CancellableWaiter<Value: Sendable>: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Value, any Error>)
        case cancelledEarly
        case done
    }

    private let state = Mutex(State.idle)

    /// Stores the continuation; false (after resuming it with `CancellationError`) when cancellation came first.
    func install(_ continuation: CheckedContinuation<Value, any Error>) -> Bool {
        let cancelled = state.withLock { state -> Bool in
            if case .cancelledEarly = state {
                state = .done
                return true
            }
            state = .waiting(continuation)
            return false
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
        return !cancelled
    }

    func resume(with result: Result<Value, any Error>) {
        take()?.resume(with: result)
    }

    func cancel() {
        let continuation = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            switch state {
            case .idle:
                state = .cancelledEarly
                return nil
            case .waiting(let continuation):
                state = .done
                return continuation
            case .cancelledEarly, .done:
                return nil
            }
        }
        continuation?.resume(throwing: CancellationError())
    }

    private func take() -> CheckedContinuation<Value, any Error>? {
        state.withLock { state in
            guard case .waiting(let continuation) = state else { return nil }
            state = .done
            return continuation
        }
    }
}
