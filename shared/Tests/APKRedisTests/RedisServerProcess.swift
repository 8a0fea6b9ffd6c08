import APKRedis
import APKSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `redis-server` that a test starts on a free loopback port (no persistence) and kills by its PID.
///
/// Call ``stop()`` in a `defer` right after ``start(arguments:)``: the process must not outlive the test, whatever
/// the test's outcome (`deinit` stops it too).
final class RedisServerProcess {
    /// `/usr/bin/redis-server`, or the first `redis-server` on `PATH`.
    static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return (["/usr/bin"] + path.split(separator: ":").map(String.init))
            .map { "\($0)/redis-server" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static let missingMessage: Comment =
        "redis-server was not found at /usr/bin/redis-server or on PATH: install it (apt-get install -y redis-server)"

    /// A logger that prints nothing (the pool warns on purpose in these tests).
    static let quietLogger = Logger(label: "apk.redis.tests") { _ in SwiftLogNoOpLogHandler() }

    let port: Int
    private let executable: String
    private let arguments: [String]
    private var process: Process?

    private init(executable: String, port: Int, arguments: [String]) {
        self.executable = executable
        self.port = port
        self.arguments = arguments
    }

    deinit { stop() }

    /// Starts a server on a free port and waits (bounded) until it answers `PING`; retries on a port clash.
    static func start(arguments: [String] = [], password: String? = nil) async throws -> RedisServerProcess {
        let executable = try #require(executable, missingMessage)
        var lastError: (any Error)?
        for _ in 0..<5 {
            let server = RedisServerProcess(executable: executable, port: try await freePort(), arguments: arguments)
            do {
                try await server.launch(password: password)
                return server
            } catch {
                server.stop()
                lastError = error
            }
        }
        throw lastError ?? RedisClientError(.connectFailed, "redis-server did not start")
    }

    /// Starts the server again on the same port (after ``kill()``).
    func restart(password: String? = nil) async throws {
        try await launch(password: password)
    }

    /// SIGKILL by PID, then reaps the process: the server dies as in a crash, without closing connections itself.
    func kill() {
        guard let process, process.isRunning else { return }
        killProcess(process.processIdentifier)
        process.waitUntilExit()
        self.process = nil
    }

    /// Stops the server if it runs (idempotent).
    func stop() { kill() }

    /// A configuration for this server.
    func configuration(password: String? = nil) -> RedisConfiguration {
        RedisConfiguration(
            port: port, password: password, connectTimeout: .milliseconds(500), commandTimeout: .seconds(2),
            maxConnections: 2, reconnectBackoff: .init(initial: .milliseconds(20), max: .milliseconds(200)))
    }

    private func launch(password: String?) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments =
            [
                "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", FileManager.default.temporaryDirectory.path, "--loglevel", "warning",
            ] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        try await waitUntilReady(password: password)
    }

    /// Polls with `PING` until the server answers, it exits (a port clash) or 5 s pass.
    private func waitUntilReady(password: String?) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        var configuration = configuration(password: password)
        configuration.connectTimeout = .milliseconds(200)
        while ContinuousClock.now < deadline {
            guard let process, process.isRunning else {
                throw RedisClientError(.connectFailed, "redis-server exited at start (port \(port) taken?)")
            }
            if let connection = try? await RESPConnection.connect(
                configuration: configuration, logger: Self.quietLogger)
            {
                let reply = try? await connection.send(["PING"])
                await connection.close()
                if reply == .simpleString("PONG") { return }
            }
            try await Task.sleep(for: .milliseconds(10))  // poll interval, not synchronisation
        }
        throw RedisClientError(.connectFailed, "redis-server on port \(port) did not answer PING within 5 s")
    }

    /// A loopback port that was free a moment ago (bound to port 0, then released).
    private static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port
        try await channel.close()
        return try #require(port)
    }
}

/// SIGKILL to one process by its PID (a free function: inside the class, `kill` names the method).
private func killProcess(_ pid: Int32) {
    _ = kill(pid, SIGKILL)
}
