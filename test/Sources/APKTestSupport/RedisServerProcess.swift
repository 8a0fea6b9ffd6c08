package import APKRedis
import APKSupport
import Foundation
package import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `redis-server` that a test starts on a free loopback port (no persistence) and kills by its PID (the APKRedis
/// and ratelimiter tests).
///
/// Call ``stop()`` in a `defer` right after ``start(arguments:password:)``: the process must not outlive the test,
/// whatever the test's outcome (`deinit` stops it too). Tests fail, not skip, when `redis-server` is missing.
package final class RedisServerProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched by the test that owns the server, one call at a time (start, pause,
    // kill, restart, stop); the other properties are immutable.

    /// Why the server could not be started.
    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    /// `/usr/bin/redis-server`, or the first `redis-server` on `PATH`.
    package static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return (["/usr/bin"] + path.split(separator: ":").map(String.init))
            .map { "\($0)/redis-server" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// What a test reports when the executable is missing.
    package static let missingMessage =
        "redis-server was not found at /usr/bin/redis-server or on PATH: install it (apt-get install -y redis-server)"

    /// A logger that prints nothing (the pool warns on purpose in these tests).
    package static let quietLogger = Logger(label: "apk.redis.tests") { _ in SwiftLogNoOpLogHandler() }

    /// The loopback port the server listens on (kept across ``restart(password:)``).
    package let port: Int
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
    package static func start(arguments: [String] = [], password: String? = nil) async throws -> RedisServerProcess {
        guard let executable else { throw Failure(description: missingMessage) }
        var lastError: (any Error)?
        for _ in 0..<5 {
            let server = RedisServerProcess(executable: executable, port: try FreePort.next(), arguments: arguments)
            do {
                try await server.launch(password: password)
                return server
            } catch {
                server.stop()
                lastError = error
            }
        }
        throw lastError ?? Failure(description: "redis-server did not start")
    }

    /// The server's PID while it runs.
    package var processIdentifier: Int32? { process.flatMap { $0.isRunning ? $0.processIdentifier : nil } }

    /// Starts the server again on the same port (after ``kill()``).
    package func restart(password: String? = nil) async throws {
        try await launch(password: password)
    }

    /// SIGKILL by PID, then reaps the process: the server dies as in a crash, without closing connections itself.
    package func kill() {
        guard let process, process.isRunning else { return }
        signalProcess(process.processIdentifier, SIGCONT)  // a stopped process is killed all the same; be explicit
        signalProcess(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// SIGSTOP by PID: the server stays connected but answers nothing (a hung or overloaded Redis) until ``resume()``.
    package func pause() {
        guard let process, process.isRunning else { return }
        signalProcess(process.processIdentifier, SIGSTOP)
    }

    /// SIGCONT by PID after ``pause()``: the server answers again, including what it received meanwhile.
    package func resume() {
        guard let process, process.isRunning else { return }
        signalProcess(process.processIdentifier, SIGCONT)
    }

    /// Stops the server if it runs (idempotent).
    package func stop() { kill() }

    /// A configuration for this server.
    package func configuration(password: String? = nil) -> RedisConfiguration {
        RedisConfiguration(
            port: port, password: password, connectTimeout: .seconds(5), commandTimeout: .seconds(5),
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
                throw Failure(description: "redis-server exited at start (port \(port) taken?)")
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
        throw Failure(description: "redis-server on port \(port) did not answer PING within 5 s")
    }
}

/// Sends `signal` to one process by its PID (a free function: inside the class, `kill` names the method).
private func signalProcess(_ pid: Int32, _ signal: Int32) {
    _ = kill(pid, signal)
}
