package import Foundation

/// Envoy with the router's bootstrap (its only static cluster is the adapter's ADS server); stopped by PID (SIGKILL
/// after 5 s).
package final class EnvoyProcess: @unchecked Sendable {
    private let process = Process()
    private let logURL: URL
    package let adminPort: Int

    package init(binary: String, nodeID: String, xdsPort: Int, directory: URL) throws {
        adminPort = try FreePort.next()
        let bootstrap = directory.appendingPathComponent("envoy.yaml")
        // The shipped bootstrap (services/router), rendered as `./build-apk.sh up` does: what is tested is what runs.
        var text = try String(
            contentsOf: Fixtures.repositoryRoot.appendingPathComponent("services/router/envoy-bootstrap.yaml.template"),
            encoding: .utf8)
        for (name, value) in [("GATEWAY_NAME", nodeID), ("ADMIN_ADDRESS", "127.0.0.1"), ("ADMIN_PORT", "\(adminPort)"),
                              ("XDS_HOST", "127.0.0.1"), ("XDS_PORT", "\(xdsPort)")] {
            text = text.replacingOccurrences(of: "${\(name)}", with: value)
        }
        let rest = text.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains("${") }
        guard rest.isEmpty else { throw TestSupportError("unrendered placeholders in the bootstrap: \(rest)") }
        try Data(text.utf8).write(to: bootstrap)
        logURL = directory.appendingPathComponent("envoy.log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-c", bootstrap.path, "--concurrency", "1", "--use-dynamic-base-id", "-l", "warning"]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    package var adminURL: String { "http://127.0.0.1:\(adminPort)" }

    /// Waits until Envoy's admin `/ready` says LIVE (its listeners came from the adapter).
    package func waitUntilReady(within seconds: Double = 60) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw TestSupportError("envoy exited:\n\(logTail())") }
            if let response = try? await HTTP.get("\(adminURL)/ready"), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))  // poll interval
        }
        throw TestSupportError("envoy did not become ready:\n\(logTail())")
    }

    /// The version Envoy runs for an xDS type (from `/config_dump`), e.g. `dynamic_route_configs`.
    package func configVersions() async throws -> [String] {
        let dump = try await HTTP.get("\(adminURL)/config_dump").text
        // "version_info": "<hash>" entries, in dump order (listeners, clusters, routes).
        return dump.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "\"version_info\": \"") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != "\"" })
        }.sorted()
    }

    package func logTail() -> String {
        String(((try? String(contentsOf: logURL, encoding: .utf8)) ?? "").suffix(3000))
    }

    /// Sends SIGTERM without waiting (``stop()`` waits).
    package func terminate() {
        if process.isRunning { process.terminate() }
    }

    package func stop() {
        guard process.isRunning else { return }
        terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

