import APKTestSupport
import Foundation
import Testing

/// The data path of one test: apk-echo, apk-deployer, apk-adapter and a real Envoy, each on free loopback ports,
/// sharing the test PostgreSQL in a namespace of their own. `stop()` ends exactly these processes.
final class GatewayStack: @unchecked Sendable {  // used from one test task
    let namespace: String
    let nodeID: String
    let echo: ServiceProcess
    let deployer: ServiceProcess
    private(set) var adapter: ServiceProcess
    let envoy: EnvoyProcess
    let xdsPort: Int
    let httpsPort: Int
    let httpPort: Int
    let directory: URL
    private let adapterEnvironment: [String: String]

    static var envoyBinary: String? { ProcessInfo.processInfo.environment["APK_ENVOY_BIN"].flatMap { $0.isEmpty ? nil : $0 } }
    static var available: Bool { IntegrationEnvironment.databaseURL != nil && envoyBinary != nil }
    static let skipMessage: Comment = "APK_TEST_DATABASE_URL or APK_ENVOY_BIN is not set: gateway tests skipped (./build-apk.sh test sets both)"

    init(label: String) async throws {
        guard let databaseURL = IntegrationEnvironment.databaseURL, let envoyBinary = Self.envoyBinary else {
            throw IntegrationError("APK_TEST_DATABASE_URL and APK_ENVOY_BIN are required")
        }
        let suffix = UUID().uuidString.prefix(8).lowercased()
        namespace = "it-\(label)-\(suffix)"
        nodeID = "gw-\(label)-\(suffix)"
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("apk-gw-\(suffix)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try await Self.makeCertificate(in: directory)

        echo = try ServiceProcess(executable: "apk-echo", environment: [:])
        deployer = try ServiceProcess(executable: "apk-deployer", environment: [
            "DATABASE_URL": databaseURL, "SEED_DEV_CLIENT": "true", "DEPLOY_NAMESPACE": namespace,
        ])
        xdsPort = try FreePort.next()
        httpsPort = try FreePort.next()
        httpPort = try FreePort.next()
        adapterEnvironment = [
            "DATABASE_URL": databaseURL, "WATCH_NAMESPACE": namespace, "GATEWAY_NAME": nodeID,
            "XDS_PORT": String(xdsPort), "GATEWAY_LISTENER_ADDRESS": "127.0.0.1",
            "GATEWAY_HTTPS_PORT": String(httpsPort), "GATEWAY_HTTP_PORT": String(httpPort),
            "GATEWAY_TLS_CERTIFICATE": directory.appendingPathComponent("gateway.crt").path,
            "GATEWAY_TLS_KEY": directory.appendingPathComponent("gateway.key").path,
            "SYSTEM_DEPLOYER_URL": deployer.baseURL, "SYSTEM_CONFIG_URL": "none",
        ]
        adapter = try ServiceProcess(executable: "apk-adapter", environment: adapterEnvironment)
        try await echo.waitUntil(path: "/get")
        try await deployer.waitUntil(path: "/ready")
        try await adapter.waitUntil(path: "/ready")
        envoy = try EnvoyProcess(binary: envoyBinary, nodeID: nodeID, xdsPort: xdsPort, directory: directory)
        try await envoy.waitUntilReady()
    }

    /// Stops the adapter (it must exit on SIGTERM although Envoy holds an ADS stream open) and starts a new one on
    /// the same ports (Envoy keeps running).
    func restartAdapter() async throws {
        guard adapter.stop() else { throw IntegrationError("apk-adapter ignored SIGTERM for 10 s:\n\(adapter.logTail())") }
        adapter = try ServiceProcess(executable: "apk-adapter", environment: adapterEnvironment, port: adapter.port)
        try await adapter.waitUntil(path: "/ready")
    }

    func stop() {
        envoy.stop()
        adapter.stop()
        deployer.stop()
        echo.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A development certificate for the gateway hostnames (openssl, self-signed).
    static func makeCertificate(in directory: URL) async throws {
        let status = try await Command.run([
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=apk-it",
            "-keyout", directory.appendingPathComponent("gateway.key").path,
            "-out", directory.appendingPathComponent("gateway.crt").path,
            "-addext", "subjectAltName=DNS:*.gw.wso2.com,DNS:gw.wso2.com,DNS:*.sandbox.gw.wso2.com,DNS:api.am.wso2.com,DNS:idp.am.wso2.com,DNS:localhost",
        ]).status
        guard status == 0 else { throw IntegrationError("openssl failed (\(status))") }
    }

    // MARK: calls through Envoy

    /// One request through the gateway with curl: HTTPS (HTTP/2 by ALPN, or HTTP/1.1 when `http1`) with SNI = `host`
    /// (resolved to 127.0.0.1), or plain HTTP/1.1 with `Host: host`. Returns status 0 when curl failed; the body
    /// then holds curl's error message.
    ///
    /// Use `http1: true` for a request with a body that the gateway answers itself (no route, and later 401/403/429):
    /// Envoy sends such a reply as soon as it has the headers and then resets the stream with NO_ERROR, which
    /// RFC 9113 §8.1 allows and says must not invalidate the response. curl 7.88 (Debian 12) fails such a transfer
    /// with exit code 92 in about one run in four (curl/curl#22984, fixed in later curl): it is the client's bug,
    /// not the gateway's, and HTTP/1.1 has no such race.
    func call(
        _ path: String, method: String = "GET", host: String, https: Bool = true, http1: Bool = false,
        headers: [String: String] = [:], body: String? = nil
    ) async throws -> HTTP.Response {
        var arguments = ["curl", "-sSk", "--max-time", "10", "-X", method, "-w", "\n%{http_code}"]
        if http1 { arguments.append("--http1.1") }
        let url: String
        if https {
            arguments += ["--resolve", "\(host):\(httpsPort):127.0.0.1"]
            url = "https://\(host):\(httpsPort)\(path)"
        } else {
            arguments += ["-H", "Host: \(host)"]
            url = "http://127.0.0.1:\(httpPort)\(path)"
        }
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        if let body { arguments += ["--data-binary", body] }
        let result = try await Command.run(arguments + [url], includeErrors: true)
        var lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.popLast() ?? "") ?? 0
        return HTTP.Response(status: status, body: Data(lines.joined(separator: "\n").utf8))
    }

    /// Polls until `path` on `host` answers `status` (each poll is a request); returns the answer and the time taken.
    @discardableResult
    func waitFor(
        _ path: String, host: String, status: Int, https: Bool = true, within seconds: Double = 30
    ) async throws -> (response: HTTP.Response, elapsed: Duration) {
        let start = ContinuousClock.now
        let deadline = start + .seconds(seconds)
        var last = HTTP.Response(status: 0, body: Data())
        while ContinuousClock.now < deadline {
            last = try await call(path, host: host, https: https)
            if last.status == status { return (last, ContinuousClock.now - start) }
            try await Task.sleep(for: .milliseconds(20))  // poll interval
        }
        throw IntegrationError(
            "\(host)\(path) did not answer \(status) within \(seconds)s (last: \(last.status) \(last.text.prefix(300)))\n"
                + "adapter log:\n\(adapter.logTail())\nenvoy log:\n\(envoy.logTail())")
    }
}

/// Envoy with the router's bootstrap (its only static cluster is the adapter's ADS server); stopped by PID (SIGKILL
/// after 5 s).
final class EnvoyProcess: @unchecked Sendable {
    private let process = Process()
    private let logURL: URL
    let adminPort: Int

    init(binary: String, nodeID: String, xdsPort: Int, directory: URL) throws {
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
        guard rest.isEmpty else { throw IntegrationError("unrendered placeholders in the bootstrap: \(rest)") }
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

    var adminURL: String { "http://127.0.0.1:\(adminPort)" }

    /// Waits until Envoy's admin `/ready` says LIVE (its listeners came from the adapter).
    func waitUntilReady(within seconds: Double = 60) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw IntegrationError("envoy exited:\n\(logTail())") }
            if let response = try? await HTTP.get("\(adminURL)/ready"), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))  // poll interval
        }
        throw IntegrationError("envoy did not become ready:\n\(logTail())")
    }

    /// The version Envoy runs for an xDS type (from `/config_dump`), e.g. `dynamic_route_configs`.
    func configVersions() async throws -> [String] {
        let dump = try await HTTP.get("\(adminURL)/config_dump").text
        // "version_info": "<hash>" entries, in dump order (listeners, clusters, routes).
        return dump.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "\"version_info\": \"") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != "\"" })
        }.sorted()
    }

    func logTail() -> String {
        String(((try? String(contentsOf: logURL, encoding: .utf8)) ?? "").suffix(3000))
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// Runs a command without blocking a thread of the cooperative pool: output goes to a file, completion is polled.
enum Command {
    /// `includeErrors` sends standard error to the output too (for diagnostics in failure messages).
    static func run(_ arguments: [String], includeErrors: Bool = false) async throws -> (status: Int32, output: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("apk-cmd-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = includeErrors ? handle : FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(5)) }  // completion poll
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: output), as: UTF8.self))
    }
}
