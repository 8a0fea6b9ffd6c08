import APKTestSupport
import Foundation
import Testing

/// Quotas through the real data path (contract §8, issue 12): deployer → PostgreSQL → apk-adapter → Envoy's
/// `ratelimit` filter → apk-ratelimiter (rules over APK discovery from the same adapter) → a real `redis-server`.
/// An API-level limit of N per hour gives exactly N answers and then 429 with the APK body and `x-ratelimit-*`
/// headers, shared by every operation of the API; an operation's own limit counts per method; with the ratelimiter
/// gone the router lets requests through (fail open).
@Suite(.enabled(if: GatewayStack.available, SkipMessage.gateway), .serialized)
struct RateLimitTests {
    static let flow = DeployerFlowTests()

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    /// One request over the HTTP listener, with its response headers (lower-case names).
    static func call(_ stack: GatewayStack, _ path: String, method: String = "GET") async throws -> Answer {
        let output = try await Command.run([
            "curl", "-sS", "--max-time", "10", "-X", method, "-D", "-", "-H", "Host: gw.wso2.com",
            "http://127.0.0.1:\(stack.httpPort)\(path)",
        ]).output
        let parts = output.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        let lines = head.components(separatedBy: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Answer(status: status, headers: headers, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// Keeps the test away from the end of an hour window (fixed windows aligned to UTC): a quota that reset in the
    /// middle would let more requests through. Scheduling, not synchronisation: at most 20 s, rarely at all.
    static func awayFromTheHourBoundary() async throws {
        let intoHour = Int(Date().timeIntervalSince1970) % 3600
        if intoHour > 3600 - 20 { try await Task.sleep(for: .seconds(3600 - intoHour + 1)) }
    }

    @Test func anAPIQuotaIsExactAndSharedAndAnOperationQuotaCountsPerMethod() async throws {
        let stack = try await GatewayStack(label: "rl", withRatelimiter: true)
        defer { stack.stop() }
        let token = try await Self.flow.token(stack.deployer)
        let api = "gw-rl-\(UUID().uuidString.prefix(6).lowercased())"
        _ = try await TestAPI(
            name: api,
            operations: [
                .init(verb: "GET", target: "/a", extra: "secured: false"),
                .init(verb: "GET", target: "/b", extra: "secured: false"),
            ],
            extraConf: "rateLimit:\n  requestsPerUnit: 5\n  unit: Hour\n"
        ).deploy(stack, token: token)
        let operations = "gw-rlop-\(UUID().uuidString.prefix(6).lowercased())"
        _ = try await TestAPI(
            name: operations,
            operations: [
                .init(verb: "POST", target: "/orders", extra: "secured: false, rateLimit: {requestsPerUnit: 2, unit: Hour}"),
                .init(verb: "GET", target: "/orders", extra: "secured: false"),
            ]
        ).deploy(stack, token: token)
        try await stack.waitFor("/\(operations)/1.0.0/orders", host: "gw.wso2.com", status: 200)
        try await Self.awayFromTheHourBoundary()

        // The rule reaches the ratelimiter over discovery, the route over ADS: until both are in, answers carry no
        // quota headers and are not counted. The first counted answer says 4 left.
        var first: Answer?
        #expect(try await Poll.until(every: .milliseconds(50)) {
            let answer = try await Self.call(stack, "/\(api)/1.0.0/a")
            guard answer.headers["x-ratelimit-limit"] != nil else { return false }
            first = answer
            return true
        }, "the API's quota is enforced")
        #expect(first?.status == 200 && first?.headers["x-ratelimit-remaining"] == "4", "\(String(describing: first?.headers))")
        #expect(first?.headers["x-ratelimit-limit"]?.hasPrefix("5, 5;w=3600") == true, "\(String(describing: first?.headers))")
        // Shared by every operation: /b counts against the same quota.
        var remaining: [String] = []
        for path in ["/b", "/a", "/b", "/a"] {
            let answer = try await Self.call(stack, "/\(api)/1.0.0\(path)")
            #expect(answer.status == 200)
            remaining.append(answer.headers["x-ratelimit-remaining"] ?? "?")
        }
        #expect(remaining == ["3", "2", "1", "0"])
        for path in ["/a", "/b"] {
            let over = try await Self.call(stack, "/\(api)/1.0.0\(path)")
            #expect(over.status == 429, "\(over.status) \(over.body)")
            #expect(over.headers["content-type"]?.lowercased().contains("json") == true)
            #expect(over.body.contains("900800") && over.body.contains("Message throttled out"), "\(over.body)")
            #expect(over.headers["x-ratelimit-remaining"] == "0")
        }

        // An operation's quota counts that method only.
        let orders = "/\(operations)/1.0.0/orders"
        #expect(try await Poll.until(every: .milliseconds(50)) {
            try await Self.call(stack, orders, method: "POST").headers["x-ratelimit-limit"] != nil
        }, "the operation's quota is enforced")
        #expect(try await Self.call(stack, orders, method: "POST").status == 200)
        #expect(try await Self.call(stack, orders, method: "POST").status == 429)
        for _ in 0..<4 {
            let get = try await Self.call(stack, orders)
            #expect(get.status == 200 && get.headers["x-ratelimit-limit"] == nil, "GET has no quota")
        }

        // The ratelimiter gone: the router lets requests through (fail open, RATELIMIT_FAIL_OPEN) instead of
        // refusing or waiting — even the API whose quota is used up (its counter is the ratelimiter's).
        stack.stopRatelimiter()
        for path in ["/a", "/b"] {
            let started = ContinuousClock.now
            let answer = try await Self.call(stack, "/\(api)/1.0.0\(path)")
            #expect(answer.status == 200, "fail open: \(answer.status) \(answer.body)")
            #expect(ContinuousClock.now - started < .seconds(5), "no long wait for the missing ratelimiter")
        }
    }
}
