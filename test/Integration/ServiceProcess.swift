import APKTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One service executable started for a test, on a free loopback port; terminated (only this process) on `stop()`.
final class ServiceProcess: @unchecked Sendable {  // `Process` is used from one test task only
    let name: String
    let port: Int
    private let process = Process()
    private let logURL: URL

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts `.build/debug/<executable>` with `environment` added to ours, plus HTTP_HOST/HTTP_PORT (`port`, or a
    /// free one).
    init(executable: String, environment: [String: String], port: Int? = nil) throws {
        name = executable
        self.port = try port ?? FreePort.next()
        let binary = Fixtures.repositoryRoot.appendingPathComponent(".build/debug/\(executable)")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw IntegrationError("\(binary.path) is missing: run `swift build --build-tests` first")
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
        process.environment = env
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Polls `path` until it answers `status` or the deadline passes (no fixed sleeps: each poll is a request).
    func waitUntil(path: String, answers status: Int = 200, within seconds: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard process.isRunning else { throw IntegrationError("\(name) exited early:\n\(logTail())") }
            if let response = try? await HTTP.get("\(baseURL)\(path)"), response.status == status { return }
            try await Task.sleep(for: .milliseconds(100))  // poll interval
        }
        throw IntegrationError("\(name) did not answer \(status) on \(path) within \(seconds)s:\n\(logTail())")
    }

    /// SIGTERM, then SIGKILL after 10 s; true when the process exited on SIGTERM (or had already exited).
    @discardableResult
    func stop() -> Bool {
        guard process.isRunning else { return true }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        let graceful = !process.isRunning
        if !graceful { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return graceful
    }

    func logTail() -> String {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return String(text.suffix(3000))
    }

    deinit { stop() }
}

struct IntegrationError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum FreePort {
    /// A port the kernel reports free on 127.0.0.1 (bind to 0, read, close).
    static func next() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw IntegrationError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw IntegrationError("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Minimal HTTP calls for the tests (URLSession; no redirects needed).
enum HTTP {
    struct Response {
        var status: Int
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                throw IntegrationError("not a JSON object: \(text.prefix(300))")
            }
            return object
        }
    }

    static func get(_ url: String, headers: [String: String] = [:]) async throws -> Response {
        try await send("GET", url, headers: headers, body: nil)
    }

    static func send(_ method: String, _ url: String, headers: [String: String] = [:], body: Data?) async throws -> Response {
        guard let target = URL(string: url) else { throw IntegrationError("bad URL \(url)") }
        var request = URLRequest(url: target, timeoutInterval: 30)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        return Response(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }

    /// A multipart/form-data body of files.
    static func multipart(_ files: [(name: String, filename: String, content: Data)]) -> (contentType: String, body: Data) {
        let boundary = "apk-it-\(UUID().uuidString)"
        var body = Data()
        for file in files {
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8))
            body.append(file.content)
            body.append(Data("\r\n".utf8))
        }
        body.append(Data("--\(boundary)--\r\n".utf8))
        return ("multipart/form-data; boundary=\(boundary)", body)
    }
}
