import APKModel
import APKStore
import Foundation
import Testing

extension ResourceStoreConformance {
    func eventsResumeFromCursor() async throws {
        let start = try await store.latestCursor()
        _ = try await store.apply(TestBundles.make(id: "api-a"), namespace: namespace)
        _ = try await store.apply(TestBundles.make(id: "api-b"), namespace: namespace)
        _ = try await store.apply(TestBundles.make(id: "api-a", revision: 2, children: [(.httpRoute, "route-1")]), namespace: namespace)
        _ = try await store.updateStatus(ResourceKey(kind: "API", namespace: namespace, name: "api-b"), status: ["ok": true])
        _ = try await store.deleteAPI(id: "api-b", namespace: namespace)
        let all = try await events(after: start)
        #expect(all.count == 25, "6 added, 6 added, 2 modified + 4 deleted, 1 status, 6 deleted")
        expectStrictlyIncreasing(all)

        // Paging with a small limit returns the same sequence.
        var paged: [ResourceEvent] = []
        var cursor = start
        while true {
            let page = try await store.events(after: cursor, limit: 4)
            guard let last = page.last else { break }
            #expect(page.count <= 4)
            paged += page
            cursor = last.cursor
        }
        #expect(paged == all)

        // Resuming from any event's cursor yields exactly the events after it.
        for (index, event) in all.enumerated() {
            #expect(try await events(after: event.cursor) == Array(all[(index + 1)...]))
        }

        // A watcher stopped after 7 events and restarted from its cursor misses and repeats nothing.
        let watcher = ResourceWatcher(store: store, batchSize: 5)
        var firstRun: [ResourceEvent] = []
        var iterator = watcher.events(after: start).makeAsyncIterator()
        while firstRun.count < 7, let event = try await iterator.next() { firstRun.append(event) }
        var secondRun: [ResourceEvent] = []
        var resumed = watcher.events(after: iterator.cursor).makeAsyncIterator()
        while secondRun.count < all.count - 7, let event = try await resumed.next() { secondRun.append(event) }
        #expect(firstRun + secondRun == all)

        // Replaying the feed reproduces the stored state.
        var replay = ResourceSnapshot(cursor: start, namespace: namespace)
        for event in all { replay.apply(event) }
        #expect(replay.sorted == (try await state()))
    }

    /// 20 applies at once: five APIs, each applied four times with different revisions and child sets.
    func concurrentApplies() async throws {
        let start = try await store.latestCursor()
        let apis = (0..<5).map { "api-\($0)" }
        let childSets: [[(kind: CRKind, suffix: String)]] = [
            TestBundles.defaultChildren, [(.httpRoute, "route-1")], [(.backend, "backend"), (.httpRoute, "route-9")],
        ]
        let bundles = (0..<20).map { index in
            TestBundles.make(id: apis[index % apis.count], revision: index, children: childSets[index % childSets.count])
        }
        let results = try await withThrowingTaskGroup(of: (Int, ApplyResult).self) { group in
            for (index, bundle) in bundles.enumerated() {
                group.addTask { (index, try await store.apply(bundle, namespace: namespace)) }
            }
            var results: [Int: ApplyResult] = [:]
            for try await (index, result) in group { results[index] = result }
            return results
        }
        #expect(results.count == 20)
        #expect(Set(results.values.map(\.cursor)).count == 20, "every apply wrote and ended at its own cursor")

        for api in apis {
            // The apply of this API that committed last is the one whose cursor is highest.
            let last = try #require(results.filter { bundles[$0.key].apiID == api }.max { $0.value.cursor < $1.value.cursor })
            #expect(Set(results.filter { bundles[$0.key].apiID == api }.map(\.value.apiUID)).count == 1, "one uid per API")
            #expect(try await stored(apiID: api) == expectedByKey(bundles[last.key], uid: last.value.apiUID), "\(api)")
        }
        let events = try await events(after: start)
        expectStrictlyIncreasing(events)
        var replay = ResourceSnapshot(cursor: start, namespace: namespace)
        for event in events { replay.apply(event) }
        #expect(replay.sorted == (try await state()), "event replay reproduces the final state")
    }

    func statusUpdates() async throws {
        let bundle = TestBundles.make(id: "api-a")
        _ = try await store.apply(bundle, namespace: namespace)
        let key = ResourceKey(kind: "API", namespace: namespace, name: "api-a")
        let before = try #require(try await store.get(key))
        let cursor = try await store.latestCursor()

        let status: JSONValue = ["conditions": [["type": "Accepted", "status": "True"]], "observedGeneration": 1]
        #expect(try await store.updateStatus(key, status: status))
        let after = try #require(try await store.get(key))
        #expect(after.status == StoredContent.canonical(status))
        #expect(after.resource == before.resource)
        #expect(after.generation == before.generation, "status does not bump the generation")
        #expect(after.resourceVersion > before.resourceVersion)
        let events = try await events(after: cursor)
        #expect(events.count == 1)
        #expect(events.first?.type == .modified)
        #expect(events.first?.resource == after)

        let unchanged = try await store.latestCursor()
        #expect(try await store.updateStatus(key, status: status), "same status: accepted, nothing written")
        #expect(try await store.latestCursor() == unchanged)
        #expect(try await store.updateStatus(ResourceKey(kind: "API", namespace: namespace, name: "missing"), status: status) == false)

        _ = try await store.apply(bundle, namespace: namespace)
        #expect(try await store.get(key)?.status == StoredContent.canonical(status), "re-apply keeps the status")
        _ = try await store.apply(TestBundles.make(id: "api-a", revision: 2), namespace: namespace)
        let changed = try #require(try await store.get(key))
        #expect(changed.status == StoredContent.canonical(status), "a spec change keeps the status")
        #expect(changed.generation == before.generation + 1)
    }

    func fixtureBundlesRoundTrip() async throws {
        for name in TestBundles.fixtureNames {
            let bundle = try TestBundles.fixture(name)
            let result = try await store.apply(bundle, namespace: namespace)
            #expect(result.created, "\(name)")
            #expect(try await stored(apiID: bundle.apiID) == expectedByKey(bundle, uid: result.apiUID), "\(name)")
            let again = try await store.apply(bundle, namespace: namespace)
            #expect(again.written == 0 && again.deleted == 0, "\(name) re-apply is a no-op")
        }
    }

    /// List, then watch while another task writes; the watcher's cache converges on the store.
    func watcherListThenWatch() async throws {
        _ = try await store.apply(TestBundles.make(id: "api-a"), namespace: namespace)
        let watcher = ResourceWatcher(store: store, batchSize: 3, waitTimeout: .seconds(5))
        var snapshot = try await watcher.snapshot(namespace: namespace)
        #expect(snapshot.sorted == (try await state()))
        let events = watcher.events(after: snapshot.cursor)

        snapshot = try await withThrowingTaskGroup(of: ResourceSnapshot?.self) { group in
            group.addTask { [snapshot] in
                var cache = snapshot
                for try await event in events {
                    cache.apply(event)
                    if event.type == .deleted, event.resource.resource.kind == "API" { return cache }
                }
                return nil
            }
            group.addTask {
                _ = try await store.apply(TestBundles.make(id: "api-b"), namespace: namespace)
                _ = try await store.apply(TestBundles.make(id: "api-a", revision: 3), namespace: namespace)
                _ = try await store.deleteAPI(id: "api-a", namespace: namespace)
                return nil
            }
            var result: ResourceSnapshot?
            for try await value in group where value != nil { result = value }
            return try #require(result)
        }
        #expect(snapshot.sorted == (try await state()))
        #expect(snapshot.cursor == (try await store.latestCursor()))
    }
}
