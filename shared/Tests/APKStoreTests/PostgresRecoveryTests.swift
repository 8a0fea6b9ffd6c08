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
        let cluster = try await ScriptCluster.start()
        do {
            try await exercise(cluster)
            try await cluster.destroy()
        } catch {
            try? await cluster.destroy()
            throw error
        }
    }

    private func exercise(_ cluster: ScriptCluster) async throws {
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
            #expect(failure < .seconds(20))  // bounded by the 5 s connect timeout, with slack

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

/// A cluster of `scripts/postgres.sh` in a temporary folder on a free port.
struct ScriptCluster {
    let directory: String
    let port: Int
    var url: String { "postgres://apk@127.0.0.1:\(port)/apk" }

    static func start() async throws -> ScriptCluster {
        let cluster = ScriptCluster(
            directory: FileManager.default.temporaryDirectory.appendingPathComponent("apk-store-recovery-\(UUID().uuidString)").path,
            port: try FreePort.find())
        try await cluster.run("start")
        return cluster
    }

    /// Runs `scripts/postgres.sh <command>` for this cluster.
    func run(_ command: String) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Fixtures.repositoryRoot.appendingPathComponent("scripts/postgres.sh").path, command]
        var environment = ProcessInfo.processInfo.environment
        environment["APK_PG_DIR"] = directory
        environment["APK_PG_PORT"] = String(port)
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        guard status == 0 else { throw StoreError.failed("scripts/postgres.sh \(command) exited with \(status)") }
    }

    func destroy() async throws {
        try await run("stop")
        try FileManager.default.removeItem(atPath: directory)
    }
}

/// A TCP port that nothing listens on (bound to port 0 by the kernel, then released).
enum FreePort {
    static func find() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        guard let port = channel.localAddress?.port else { throw StoreError.failed("no local port") }
        return port
    }
}
