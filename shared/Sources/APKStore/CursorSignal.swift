import Synchronization

/// Wakes tasks that wait for the event cursor to move past a value.
///
/// Both stores use it behind ``ResourceStore/waitForEvents(after:timeout:)``: the in-memory store advances it on every
/// write; the Postgres store advances it from `LISTEN apk_resources` notifications and from its own commits, and calls
/// ``wakeAll()`` when its listener (re)connects, since notifications sent while it was away are lost.
/// Waiting needs no unstructured task: a waiter is a continuation raced against a timer in a task group.
package final class CursorSignal: Sendable {
    private struct Waiter {
        var after: Int64
        var continuation: CheckedContinuation<Void, Never>?
        var fired = false
    }

    private struct State {
        var latest: Int64 = 0
        var epoch = 0
        var nextID = 0
        var waiters: [Int: Waiter] = [:]

        /// Marks a waiter fired and hands back its continuation if it is already suspended.
        mutating func fire(_ id: Int) -> CheckedContinuation<Void, Never>? {
            guard var waiter = waiters[id] else { return nil }
            waiter.fired = true
            let continuation = waiter.continuation
            waiter.continuation = nil
            waiters[id] = waiter
            return continuation
        }
    }

    private let state = Mutex(State())

    /// A signal at cursor 0 with no waiters.
    package init() {}

    /// The highest cursor seen so far.
    package var latest: Int64 { state.withLock { $0.latest } }

    /// Records that events up to `cursor` exist and wakes every waiter behind it.
    package func advance(to cursor: Int64) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard cursor > state.latest else { return [] }
            state.latest = cursor
            let ids = state.waiters.filter { $0.value.after < cursor && !$0.value.fired }.map(\.key)
            return ids.compactMap { state.fire($0) }
        }
        for continuation in ready { continuation.resume() }
    }

    /// Increments on every ``wakeAll()``: a waiter that read it before checking the store returns at once when it
    /// changed in between.
    package var epoch: Int { state.withLock { $0.epoch } }

    /// Wakes every waiter (they re-check the store): used after a gap in which notifications may have been lost.
    package func wakeAll() {
        let ready = state.withLock { state in
            state.epoch += 1
            return state.waiters.keys.compactMap { state.fire($0) }
        }
        for continuation in ready { continuation.resume() }
    }

    /// Returns once ``latest`` is greater than `cursor`, after ``wakeAll()`` (or at once when ``epoch`` is no longer
    /// `epoch`), on cancellation, or after `timeout`.
    package func wait(after cursor: Int64, timeout: Duration, epoch: Int? = nil) async {
        guard timeout > .zero else { return }
        let id = state.withLock { state -> Int? in
            guard state.latest <= cursor, epoch.map({ $0 == state.epoch }) ?? true else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.waiters[id] = Waiter(after: cursor)
            return id
        }
        guard let id else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.suspend(id) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        _ = state.withLock { $0.waiters.removeValue(forKey: id) }
    }

    /// The number of suspended or registered waiters (for tests and metrics).
    package var waiterCount: Int { state.withLock { $0.waiters.count } }

    private func suspend(_ id: Int) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    guard var waiter = state.waiters[id], !waiter.fired else { return true }
                    waiter.continuation = continuation
                    state.waiters[id] = waiter
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.fire(id) }?.resume()
        }
    }
}
