import APKModel

/// Follows the change feed of any ``ResourceStore``: an endless `AsyncSequence` of events after a cursor, and a
/// consistent "list, then watch" starting point.
///
/// The sequence pages through ``ResourceStore/events(after:limit:)`` and, when it has caught up, parks in
/// ``ResourceStore/waitForEvents(after:timeout:)`` (LISTEN/NOTIFY for Postgres), so it neither sleeps to synchronise
/// nor busy-polls. Resuming from the cursor of the last event handled yields every later event exactly once, because
/// stores commit events in cursor order. No task is spawned: the work happens in the consumer's `next()`.
package struct ResourceWatcher: Sendable {
    package var store: any ResourceStore
    /// Events fetched per query.
    package var batchSize: Int
    /// Longest single wait for new events before querying again.
    package var waitTimeout: Duration
    /// Back-off before retrying after ``StoreError/unavailable(_:)``; nil ends the sequence with the error instead.
    package var retryDelay: Duration?

    package init(store: any ResourceStore, batchSize: Int = 500, waitTimeout: Duration = .seconds(30),
                 retryDelay: Duration? = .seconds(1)) {
        self.store = store
        self.batchSize = max(batchSize, 1)
        self.waitTimeout = waitTimeout
        self.retryDelay = retryDelay
    }

    /// Every event with a cursor greater than `cursor`, oldest first. Ends (returns nil) when the consuming task is
    /// cancelled; throws only errors other than ``StoreError/unavailable(_:)`` (or that one too when `retryDelay` is nil).
    package func events(after cursor: Int64) -> Events { Events(watcher: self, cursor: cursor) }

    /// A snapshot of the resources matching `kind` and `namespace` plus the cursor it reflects: apply the events
    /// after ``ResourceSnapshot/cursor`` to it (``ResourceSnapshot/apply(_:)``) to follow the store.
    ///
    /// Reads the cursor, lists, and reads the cursor again; when both cursors agree nothing was committed in between,
    /// so the list is exactly the state at that cursor. Under constant writes it gives up after `attempts` and returns
    /// the first cursor: replaying from there is still exact, because ``ResourceSnapshot/apply(_:)`` skips events
    /// older than what the list already holds.
    package func snapshot(kind: String? = nil, namespace: String? = nil, attempts: Int = 5) async throws(StoreError) -> ResourceSnapshot {
        var before: Int64 = 0
        var resources: [StoredResource] = []
        for _ in 0..<max(attempts, 1) {
            before = try await store.latestCursor()
            resources = try await store.list(kind: kind, namespace: namespace, owner: nil)
            if try await store.latestCursor() == before { break }
        }
        return ResourceSnapshot(resources: resources, cursor: before, kind: kind, namespace: namespace)
    }

    /// The endless event sequence of ``events(after:)``.
    package struct Events: AsyncSequence, Sendable {
        package typealias Element = ResourceEvent
        package typealias Failure = StoreError

        let watcher: ResourceWatcher
        let cursor: Int64

        package func makeAsyncIterator() -> Iterator { Iterator(watcher: watcher, cursor: cursor) }
    }

    package struct Iterator: AsyncIteratorProtocol {
        package typealias Element = ResourceEvent
        package typealias Failure = StoreError

        let watcher: ResourceWatcher
        /// The cursor of the last event returned (resume from here).
        package private(set) var cursor: Int64
        private var buffer: [ResourceEvent] = []
        private var index = 0

        init(watcher: ResourceWatcher, cursor: Int64) {
            self.watcher = watcher
            self.cursor = cursor
        }

        package mutating func next() async throws(StoreError) -> ResourceEvent? {
            while true {
                if index < buffer.count {
                    let event = buffer[index]
                    index += 1
                    cursor = event.cursor
                    return event
                }
                if Task.isCancelled { return nil }
                do {
                    let batch = try await watcher.store.events(after: cursor, limit: watcher.batchSize)
                    if batch.isEmpty {
                        try await watcher.store.waitForEvents(after: cursor, timeout: watcher.waitTimeout)
                    } else {
                        buffer = batch
                        index = 0
                    }
                } catch {
                    guard case .unavailable = error, let delay = watcher.retryDelay else { throw error }
                    do { try await Task.sleep(for: delay) } catch { return nil }  // cancelled while backing off
                }
            }
        }
    }
}

/// Resources known to a watcher, kept current by applying events (the informer cache of a controller).
package struct ResourceSnapshot: Sendable, Hashable {
    package private(set) var resources: [ResourceKey: StoredResource]
    /// The cursor of the last event applied (or of the initial list).
    package private(set) var cursor: Int64
    /// Filters: events for other kinds or namespaces are ignored.
    package let kind: String?
    package let namespace: String?

    package init(resources: [StoredResource] = [], cursor: Int64 = 0, kind: String? = nil, namespace: String? = nil) {
        self.resources = Dictionary(resources.map { ($0.key, $0) }, uniquingKeysWith: { $1 })
        self.cursor = cursor
        self.kind = kind
        self.namespace = namespace
    }

    /// Applies one event; false when it was ignored (filtered out, already applied, or older than what is held).
    @discardableResult
    package mutating func apply(_ event: ResourceEvent) -> Bool {
        guard event.cursor > cursor else { return false }
        cursor = event.cursor
        let key = event.resource.key
        guard kind == nil || key.kind == kind, namespace == nil || key.namespace == namespace else { return false }
        if let held = resources[key], held.resourceVersion >= event.resource.resourceVersion { return false }
        switch event.type {
        case .added, .modified: resources[key] = event.resource
        case .deleted: guard resources.removeValue(forKey: key) != nil else { return false }
        }
        return true
    }

    /// The held resources ordered by kind, namespace and name (as ``ResourceStore/list(kind:namespace:owner:)``).
    package var sorted: [StoredResource] {
        resources.values.sorted {
            ($0.resource.kind, $0.namespace, $0.resource.name) < ($1.resource.kind, $1.namespace, $1.resource.name)
        }
    }
}
