import APKModel
import APKStore
import Synchronization
import Testing

/// The wake-up primitive behind `waitForEvents`, and the watcher's behaviour when its task is cancelled.
/// Timing bounds only tell "woken" from "timed out" (waits use a 300 s timeout; 120 s bounds leave room for a loaded
/// CI machine running every suite in parallel).
@Suite struct CursorSignalTests {
    @Test func advanceWakesOnlyWaitersBehindTheCursor() async {
        let signal = CursorSignal()
        signal.advance(to: 5)
        let immediate = await ContinuousClock().measure { await signal.wait(after: 4, timeout: .seconds(300)) }
        #expect(immediate < .seconds(120), "an event newer than the cursor already exists")

        let woken = await ContinuousClock().measure {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await signal.wait(after: 5, timeout: .seconds(300)) }
                while signal.waiterCount == 0 { await Task.yield() }
                signal.advance(to: 5)  // not newer: the waiter stays parked
                #expect(signal.waiterCount == 1)
                signal.advance(to: 6)
            }
        }
        #expect(woken < .seconds(120))
        #expect(signal.waiterCount == 0)
    }

    @Test func timesOutWithoutNews() async {
        let signal = CursorSignal()
        let waited = await ContinuousClock().measure { await signal.wait(after: 0, timeout: .milliseconds(150)) }
        #expect(waited >= .milliseconds(140))
        #expect(signal.waiterCount == 0)
    }

    @Test func wakeAllAndStaleEpochReturnAtOnce() async {
        let signal = CursorSignal()
        let epoch = signal.epoch
        signal.wakeAll()
        let stale = await ContinuousClock().measure { await signal.wait(after: 0, timeout: .seconds(300), epoch: epoch) }
        #expect(stale < .seconds(120))
        let woken = await ContinuousClock().measure {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await signal.wait(after: 0, timeout: .seconds(300)) }
                while signal.waiterCount == 0 { await Task.yield() }
                signal.wakeAll()
            }
        }
        #expect(woken < .seconds(120))
    }

    @Test func cancellationEndsAWaitAndAWatch() async throws {
        let signal = CursorSignal()
        let cancelled = await ContinuousClock().measure {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await signal.wait(after: 0, timeout: .seconds(300)) }
                while signal.waiterCount == 0 { await Task.yield() }
                group.cancelAll()
            }
        }
        #expect(cancelled < .seconds(120))

        let store = ObservedStore()
        _ = try await store.apply(TestBundles.make(id: "api-a"), namespace: "ns")
        let seen = try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                var count = 0
                for try await _ in ResourceWatcher(store: store, waitTimeout: .seconds(30)).events(after: 0) { count += 1 }
                return count  // the loop ends when the task is cancelled while the watcher is parked
            }
            _ = try await store.apply(TestBundles.make(id: "api-b"), namespace: "ns")
            #expect(try await store.deleteAPI(id: "api-b", namespace: "ns"))
            while !store.parked(after: 18) { await Task.yield() }
            group.cancelAll()
            return try await group.next() ?? 0
        }
        #expect(seen == 18, "6 + 6 added, 6 deleted, then a clean end on cancellation")
    }
}

/// An in-memory store that records the cursors its watchers park at.
final class ObservedStore: ResourceStore {
    let inner = InMemoryResourceStore()
    private let parkedAt = Mutex<Set<Int64>>([])

    func parked(after cursor: Int64) -> Bool { parkedAt.withLock { $0.contains(cursor) } }

    func apply(_ bundle: CRBundle, namespace: String) async throws(StoreError) -> ApplyResult {
        try await inner.apply(bundle, namespace: namespace)
    }
    func deleteAPI(id: String, namespace: String, organization: String?) async throws(StoreError) -> Bool {
        await inner.deleteAPI(id: id, namespace: namespace, organization: organization)
    }
    func applyResource(_ resource: K8sResource, namespace: String) async throws(StoreError) -> Int64 {
        try await inner.applyResource(resource, namespace: namespace)
    }
    func deleteResource(_ key: ResourceKey) async throws(StoreError) -> Bool { try await inner.deleteResource(key) }
    func get(_ key: ResourceKey) async throws(StoreError) -> StoredResource? { await inner.get(key) }
    func list(kind: String?, namespace: String?, owner: String?) async throws(StoreError) -> [StoredResource] {
        await inner.list(kind: kind, namespace: namespace, owner: owner)
    }
    func updateStatus(_ key: ResourceKey, status: JSONValue) async throws(StoreError) -> Bool {
        await inner.updateStatus(key, status: status)
    }
    func events(after cursor: Int64, limit: Int) async throws(StoreError) -> [ResourceEvent] {
        await inner.events(after: cursor, limit: limit)
    }
    func waitForEvents(after cursor: Int64, timeout: Duration) async throws(StoreError) {
        parkedAt.withLock { _ = $0.insert(cursor) }
        await inner.waitForEvents(after: cursor, timeout: timeout)
    }
    func latestCursor() async throws(StoreError) -> Int64 { await inner.latestCursor() }
}
