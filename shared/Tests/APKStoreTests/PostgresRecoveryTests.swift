import APKStore
import APKTestSupport
import Foundation
import PostgresNIO
import Testing

/// Stops and restarts a dedicated cluster (started with `scripts/postgres.sh test-env` on a free port, so the shared
/// test server is not disturbed) and checks that the stores report `.unavailable` and then recover by themselves.
@Suite(.enabled(if: PostgresTestDatabase.isAvailable, PostgresTestDatabase.skipMessage))
struct PostgresRecoveryTests {
    @Test(.timeLimit(.minutes(3)))
    func storesRecoverWhenTheDatabaseComesBack() async throws {
        let cluster = try await PostgresCluster.start(label: "apk-store-recovery")
        do {
            try await exercise(cluster)
            try await cluster.destroy()
        } catch {
            try? await cluster.destroy()
            throw error
        }
    }

    private func exercise(_ cluster: PostgresCluster) async throws {
        var configuration = try PostgresStore.Configuration(url: cluster.url)
        configuration.connectTimeout = .seconds(5)  // generous: CI machines are loaded while tests run in parallel
        let store = PostgresStore(configuration: configuration, logger: PostgresTestDatabase.logger)
        try await PostgresTestDatabase.run(store) { store in
            try await store.migrate()
            try await PostgresTestDatabase.waitUntilListening(store)
            _ = try await store.resources.apply(TestBundles.make(id: "api-a"), namespace: "default")

            // The same cluster through its unix socket (libpq-style `host=<socket directory>`).
            let overSocket = PostgresStore(
                configuration: try PostgresStore.Configuration(url: "postgres://apk@/apk?host=\(cluster.directory)/run&port=\(cluster.port)"),
                logger: PostgresTestDatabase.logger)
            try await PostgresTestDatabase.run(overSocket) { overSocket in
                let cursor = try await overSocket.resources.latestCursor()
                #expect(cursor == 6)
            }

            try await cluster.run("stop")
            let failure = await ContinuousClock().measure {
                await #expect(throws: StoreError.self) { try await store.resources.latestCursor() }
            }
            print("APKStore: query with the database stopped failed after \(failure)")
            #expect(failure < .seconds(120))  // it ends (5 s connect timeout); a hang detector: 10.4 s seen on a loaded CI run

            try await cluster.run("start")
            let clock = ContinuousClock()
            let restarted = clock.now
            var recovered: Int64?
            while recovered == nil, clock.now < restarted + .seconds(60) {
                do {
                    recovered = try await store.resources.latestCursor()
                } catch {
                    guard case .unavailable = error as? StoreError else { throw error }
                    try await Task.sleep(for: .milliseconds(100))  // retry back-off of the test's own loop
                }
            }
            print("APKStore: first successful query \(clock.now - restarted) after the restart")
            #expect(recovered == 6)
            _ = try await store.resources.apply(TestBundles.make(id: "api-b"), namespace: "default")
            try await PostgresTestDatabase.waitUntilListening(store)
            print("APKStore: change-feed listener reconnected \(clock.now - restarted) after the restart")
            #expect(try await store.resources.events(after: 0, limit: 100).count == 12)
        }
    }
}
