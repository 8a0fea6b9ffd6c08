import Foundation

/// A throwaway PostgreSQL cluster made by the project's own `scripts/postgres.sh` (the script `./build-apk.sh up`
/// and `test` use) in a temporary folder on a free loopback port, for tests that stop and restart the server.
/// `destroy()` stops exactly this cluster and removes its folder.
package struct PostgresCluster: Sendable {
    package let directory: String
    package let port: Int
    package var url: String { "postgres://apk@127.0.0.1:\(port)/apk" }

    /// Initialises and starts a new cluster; `label` names its folder.
    package static func start(label: String = "apk-pg") async throws -> PostgresCluster {
        let cluster = PostgresCluster(
            directory: FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)").path,
            port: try FreePort.next())
        try await cluster.run("start")
        return cluster
    }

    /// Runs `scripts/postgres.sh <command>` (`start`, `stop`, …) for this cluster.
    package func run(_ command: String) async throws {
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
        guard status == 0 else { throw TestSupportError("scripts/postgres.sh \(command) exited with \(status)") }
    }

    package func destroy() async throws {
        try await run("stop")
        try FileManager.default.removeItem(atPath: directory)
    }
}
