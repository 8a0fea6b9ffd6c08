import APKModel
import APKStore
import APKTestSupport
import Foundation
import PostgresNIO
import Testing

/// PostgreSQL-only behaviour: atomicity under a failing statement, LISTEN wake-ups, migrations.
@Suite(.enabled(if: PostgresTestDatabase.isAvailable, PostgresTestDatabase.skipMessage))
struct PostgresStoreTests {
    let namespace = "apk-test"

    /// A trigger (created by the test) makes the INSERT of a resource named `explode` fail after the API CR and other
    /// children of the new version were already written in the same transaction: nothing of it may remain.
    @Test func failureInTheMiddleOfApplyLeavesThePreviousVersion() async throws {
        try await PostgresTestDatabase.withStore { store in
            let resources = store.resources
            let v1 = TestBundles.make(id: "api-a")
            let first = try await resources.apply(v1, namespace: namespace)
            let rows = try await resources.list(kind: nil, namespace: nil, owner: nil)
            let events = try await resources.events(after: 0, limit: 1_000)

            try await store.client.query(
                """
                CREATE FUNCTION apk_test_explode() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'test-induced failure'; END $$
                """)
            try await store.client.query(
                """
                CREATE TRIGGER apk_test_explode BEFORE INSERT OR UPDATE ON resources
                FOR EACH ROW WHEN (NEW.name = 'api-a-explode') EXECUTE FUNCTION apk_test_explode()
                """)
            let v2 = TestBundles.make(
                id: "api-a", revision: 2, children: [(.configMap, "definition"), (.httpRoute, "route-1"), (.scope, "explode")])
            do {
                _ = try await resources.apply(v2, namespace: namespace)
                Issue.record("apply should have failed")
            } catch {
                guard let storeError = error as? StoreError, case .failed(let message) = storeError else { throw error }
                #expect(message.contains("P0001"), "the trigger's error, without SQL: \(message)")
                #expect(!message.contains("INSERT"))
            }
            #expect(try await resources.list(kind: nil, namespace: nil, owner: nil) == rows, "v1 rows unchanged")
            #expect(try await resources.events(after: 0, limit: 1_000) == events, "no event of v2")
            #expect(try await resources.latestCursor() == first.cursor)

            // The pool's connections are healthy afterwards and the same apply works without the trigger.
            try await store.client.query("DROP TRIGGER apk_test_explode ON resources")
            let second = try await resources.apply(v2, namespace: namespace)
            #expect(second.apiUID == first.apiUID)
            #expect(second.deleted == 3)
        }
    }

    /// A second store (another process, in effect) is woken by the NOTIFY of the first store's commit.
    @Test func listenWakesAWaiterPromptly() async throws {
        try await PostgresTestDatabase.withDatabase { configuration in
            let writer = PostgresStore(configuration: configuration, logger: PostgresTestDatabase.logger)
            let reader = PostgresStore(configuration: configuration, logger: PostgresTestDatabase.logger)
            try await PostgresTestDatabase.run(writer) { writer in
                try await writer.migrate()
                try await PostgresTestDatabase.run(reader) { reader in
                    try await PostgresTestDatabase.waitUntilListening(reader)
                    let start = try await reader.resources.latestCursor()

                    // No event: the wait lasts its timeout.
                    let idle = try await ContinuousClock().measure {
                        try await reader.resources.waitForEvents(after: start, timeout: .milliseconds(300))
                    }
                    #expect(idle >= .milliseconds(290))

                    let clock = ContinuousClock()
                    let (applyTook, wokenAfter) = try await withThrowingTaskGroup(of: ContinuousClock.Instant?.self) { group in
                        group.addTask {
                            try await reader.resources.waitForEvents(after: start, timeout: .seconds(300))
                            return clock.now
                        }
                        try await Self.untilParked(reader)
                        let before = clock.now
                        let committed = try await writer.resources.apply(TestBundles.make(id: "api-a"), namespace: namespace)
                        let applyTook = clock.now - before
                        #expect(committed.cursor > start)
                        let wokenAt = try #require(try await group.next() ?? nil)
                        return (applyTook, wokenAt - before)
                    }
                    print("APKStore: apply (6 resources) took \(applyTook); the other store's waiter woke \(wokenAfter) after the apply began")
                    #expect(wokenAfter < .seconds(120), "woken by NOTIFY, not by the 300 s timeout")
                }
            }
        }
    }

    /// Repeated applies of changing and unchanged bundles: every change, and only changes, reach the feed (the mean
    /// latency is printed for information; speed targets live in benchmarks).
    @Test func applyLatency() async throws {
        try await PostgresTestDatabase.withStore { store in
            let clock = ContinuousClock()
            let rounds = 40
            var changed: Duration = .zero
            var unchanged: Duration = .zero
            for round in 0..<rounds {
                let bundle = TestBundles.make(id: "api-a", revision: round)
                changed += try await clock.measure { _ = try await store.resources.apply(bundle, namespace: namespace) }
                unchanged += try await clock.measure { _ = try await store.resources.apply(bundle, namespace: namespace) }
            }
            print("APKStore: apply of a 6-resource bundle, mean of \(rounds): changed \(changed / rounds), unchanged \(unchanged / rounds)")
            #expect(try await store.resources.latestCursor() == Int64(6 * rounds))
        }
    }

    /// Waits until `store` has a parked waiter (bounded; yields, never sleeps).
    static func untilParked(_ store: PostgresStore) async throws {
        let deadline = ContinuousClock.now + Poll.hangLimit
        while store.parkedWaiters == 0 {
            guard ContinuousClock.now < deadline else { throw StoreError.unavailable("waiter never parked") }
            await Task.yield()
        }
    }

    @Test func migrationsAreIdempotentAndSerialised() async throws {
        try await PostgresTestDatabase.withDatabase { configuration in
            let first = PostgresStore(configuration: configuration, logger: PostgresTestDatabase.logger)
            let second = PostgresStore(configuration: configuration, logger: PostgresTestDatabase.logger)
            try await PostgresTestDatabase.run(first) { first in
                try await PostgresTestDatabase.run(second) { second in
                    async let a = first.migrate()
                    async let b = second.migrate()
                    let applied = try await [a, b]
                    #expect(applied.flatMap { $0 }.sorted() == [1, 2, 3], "each version applied by exactly one of two concurrent runs")
                    #expect(try await first.migrate().isEmpty)
                    let rows = try await first.client.query("SELECT version, name FROM apk_schema_migrations").collect()
                    #expect(rows.count == 3)
                    _ = try await first.resources.apply(TestBundles.make(id: "api-a"), namespace: "default")
                    #expect(try await second.migrate().isEmpty)
                    #expect(try await second.resources.list(kind: "API", namespace: nil, owner: nil).count == 1, "data kept")
                }
            }
        }
    }
}
