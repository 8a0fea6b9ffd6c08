import APKTestSupport
import Foundation
import Testing

/// CORS through a real Envoy (contract §4.7, §7.8), in both enforcement modes: the reference's observed answers
/// (CORS.feature, allowed origin `abc.com`) for an API with its own policy, the gateway default for an API without
/// one, and denials a browser can read.
@Suite(.enabled(if: GatewayStack.available, SkipMessage.gateway), .serialized)
struct CORSTests {
    static let flow = DeployerFlowTests()

    static let policy = """
        corsConfiguration:
          corsConfigurationEnabled: true
          accessControlAllowOrigins: ["abc.com"]
          accessControlAllowCredentials: true
          accessControlAllowHeaders: ["Content-Type", "Authorization"]
          accessControlAllowMethods: ["GET", "POST", "PUT", "DELETE"]
          accessControlAllowMaxAge: 3600
        """

    /// Status, lower-cased response headers and body of one HTTPS request through the gateway (curl, HTTP/1.1).
    static func exchange(
        _ stack: GatewayStack, _ method: String, _ path: String, headers: [String: String] = [:]
    ) async throws -> (status: Int, headers: [String: String], body: String) {
        let file = stack.directory.appendingPathComponent("cors-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        var arguments = [
            "curl", "-sSk", "--http1.1", "--max-time", "10", "-X", method, "-D", file.path, "-o", "-",
            "--resolve", "gw.wso2.com:\(stack.httpsPort):127.0.0.1",
        ]
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { arguments += ["-H", "\(name): \(value)"] }
        let body = try await Command.run(arguments + ["https://gw.wso2.com:\(stack.httpsPort)\(path)"]).output
        let lines = (try? String(contentsOf: file, encoding: .utf8))?.split(separator: "\r\n") ?? []
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, fields, body)
    }

    static func corsHeaders(_ headers: [String: String]) -> [String: String] {
        headers.filter { $0.key.hasPrefix("access-control-") }
    }

    @Test(arguments: [GatewayStack.Enforcement.native, .enforcer])
    func referenceCORSBehaviour(mode: GatewayStack.Enforcement) async throws {
        let stack = try await GatewayStack(label: "cors-\(mode.rawValue)", enforcement: mode)
        defer { stack.stop() }
        let token = try await Self.flow.token(stack.deployer)
        let name = "gw-cors-\(UUID().uuidString.prefix(6).lowercased())"
        let plain = "gw-cors2-\(UUID().uuidString.prefix(6).lowercased())"
        for (api, cors) in [(name, true), (plain, false)] {
            let operations: [TestAPI.Operation] = [
                .init(verb: "GET", target: "/get"), .init(verb: "POST", target: "/get"),
                .init(verb: "GET", target: "/open", extra: "secured: false"),
            ]
            _ = try await TestAPI(name: api, operations: operations, extraConf: cors ? Self.policy : "").deploy(stack, token: token)
            try await stack.waitFor("/\(api)/1.0.0/open", host: "gw.wso2.com", status: 200)
        }
        let path = "/\(name)/1.0.0/get"

        // OPTIONS without Origin → 200, no CORS headers, nothing forwarded (empty body: not apk-echo's JSON).
        let bare = try await Self.exchange(stack, "OPTIONS", path)
        #expect(bare.status == 200 && bare.body.isEmpty, "\(bare)")
        #expect(Self.corsHeaders(bare.headers).isEmpty, "\(bare.headers)")
        // OPTIONS with an origin the API does not allow → 200, no CORS headers.
        let other = try await Self.exchange(stack, "OPTIONS", path, headers: ["Origin": "xyz.com"])
        #expect(other.status == 200 && Self.corsHeaders(other.headers).isEmpty, "\(other.headers)")
        // OPTIONS with the allowed origin, not a preflight → the origin and credentials only.
        let simple = try await Self.exchange(stack, "OPTIONS", path, headers: ["Origin": "abc.com"])
        #expect(simple.status == 200)
        #expect(simple.headers["access-control-allow-origin"] == "abc.com")
        #expect(simple.headers["access-control-allow-credentials"] == "true")
        // A preflight → also the methods, headers and max age.
        let preflight = try await Self.exchange(
            stack, "OPTIONS", path, headers: ["Origin": "abc.com", "Access-Control-Request-Method": "GET"])
        #expect(preflight.status == 200)
        #expect(preflight.headers["access-control-allow-origin"] == "abc.com")
        #expect(preflight.headers["access-control-allow-methods"] == "GET, POST, PUT, DELETE")
        #expect(preflight.headers["access-control-allow-headers"] == "Content-Type, Authorization")
        #expect(preflight.headers["access-control-max-age"] == "3600")

        // A denial a browser can read: 401 with the APK body and the allowed origin.
        let denied = try await Self.exchange(stack, "GET", path, headers: ["Origin": "abc.com"])
        #expect(denied.status == 401 && denied.body.contains("900903"), "\(denied)")
        #expect(denied.headers["access-control-allow-origin"] == "abc.com", "\(denied.headers)")
        // An allowed request through to the backend carries it too.
        let allowed = try await Self.exchange(stack, "GET", path, headers: ["Origin": "abc.com", "Authorization": "Bearer \(token)"])
        #expect(allowed.status == 200 && allowed.headers["access-control-allow-origin"] == "abc.com", "\(allowed.headers)")

        // No policy of its own: the gateway default (any origin, the usual methods, no credentials).
        let fallback = try await Self.exchange(
            stack, "OPTIONS", "/\(plain)/1.0.0/get", headers: ["Origin": "https://app.example", "Access-Control-Request-Method": "POST"])
        #expect(fallback.status == 200)
        #expect(fallback.headers["access-control-allow-origin"] == "https://app.example")
        #expect(fallback.headers["access-control-allow-methods"] == "GET, POST, PUT, DELETE, PATCH, OPTIONS")
        #expect(fallback.headers["access-control-allow-credentials"] == nil)
    }
}
