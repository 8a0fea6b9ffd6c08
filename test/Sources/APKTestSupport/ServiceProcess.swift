import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One service executable started for a test, on a free loopback port; terminated (only this process) on `stop()`.
package final class ServiceProcess: @unchecked Sendable {  // `Process` is used from one test task only
    package let name: String
    package let port: Int
    private let process = Process()
    private let logURL: URL

    package var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts `.build/debug/<executable>` with `environment` added to ours, plus HTTP_HOST/HTTP_PORT (`port`, or a
    /// free one).
    package init(executable: String, environment: [String: String], port: Int? = nil) throws {
        name = executable
        self.port = try port ?? FreePort.next()
        let binary = Fixtures.repositoryRoot.appendingPathComponent(".build/debug/\(executable)")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestSupportError("\(binary.path) is missing: run `swift build --build-tests` first")
        }
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("\(executable)-\(self.port).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = binary
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        env["HTTP_HOST"] = "127.0.0.1"
        env["HTTP_PORT"] = String(self.port)
        env["LOG_LEVEL"] = env["LOG_LEVEL"] ?? "warning"
        if executable == "apk-deployer", env["SIGNING_KEY_KEK"] == nil, env["SIGNING_KEY_KEK_FILE"] == nil,
            env["SIGNING_KEY_ALLOW_PLAINTEXT"] == nil
        {
            env["SIGNING_KEY_KEK"] = Self.testKEK
        }
        process.environment = env
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Polls `path` until it answers `status` or the deadline passes (no fixed sleeps: each poll is a request).
    package func waitUntil(path: String, answers status: Int = 200, within seconds: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard process.isRunning else { throw TestSupportError("\(name) exited early:\n\(logTail())") }
            if let response = try? await HTTP.get("\(baseURL)\(path)"), response.status == status { return }
            try await Task.sleep(for: .milliseconds(100))  // poll interval
        }
        throw TestSupportError("\(name) did not answer \(status) on \(path) within \(seconds)s:\n\(logTail())")
    }

    /// Sends SIGTERM without waiting (``stop()`` waits): stopping several processes, signal them all first, so the
    /// blocking waits overlap instead of adding up on the test's thread.
    package func terminate() {
        if process.isRunning { process.terminate() }
    }

    /// SIGTERM, then SIGKILL after 10 s; true when the process exited on SIGTERM (or had already exited).
    @discardableResult
    package func stop() -> Bool {
        guard process.isRunning else { return true }
        terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        let graceful = !process.isRunning
        if !graceful { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return graceful
    }

    /// TEST FIXTURE, not a secret: the key-encryption key of every deployer the tests start without one of their own
    /// (`SIGNING_KEY_KEK`). One fixed value, because deployers of one run — and of reruns against the same
    /// `APK_TEST_DATABASE_URL` — share the database's signing keys, which only the KEK that sealed them opens.
    package static let testKEK = "wOHHjKI74+iVfXMqIb2KIRumZzvqDQybXqJzfW0EgKs="

    /// Everything the process has written to stdout and stderr so far.
    package var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    package func logTail() -> String {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return String(text.suffix(3000))
    }

    deinit { stop() }
}

