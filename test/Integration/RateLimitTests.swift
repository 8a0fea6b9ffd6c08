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

    /// Deploys an API named `<prefix>-<random>` with one open operation, `GET /a`, and an API-level quota of
    /// `requests` per `unit`; returns its name.
    static func deployLimitedAPI(
        _ stack: GatewayStack, token: String, prefix: String, _ requests: Int, per unit: String
    ) async throws -> String {
        let name = "\(prefix)-\(UUID().uuidString.prefix(6).lowercased())"
        _ = try await TestAPI(
            name: name, operations: [.init(verb: "GET", target: "/a", extra: "secured: false")],
            extraConf: "rateLimit:\n  requestsPerUnit: \(requests)\n  unit: \(unit)\n"
        ).deploy(stack, token: token)
        return name
    }

    /// Same for the minute: minute quotas are the smallest that local-share mode shares.
    static func awayFromTheMinuteBoundary() async throws {
        let intoMinute = Int(Date().timeIntervalSince1970) % 60
        if intoMinute > 60 - 25 { try await Task.sleep(for: .seconds(60 - intoMinute + 1)) }
    }

    /// One counter of Envoy's admin `/stats` (0 when absent).
    static func envoyStat(_ stack: GatewayStack, _ name: String) async throws -> Int {
        let text = try await HTTP.get("\(stack.envoy.adminURL)/stats?filter=\(name)").text
        for line in text.split(separator: "\n") where line.hasPrefix(name + ": ") {
            return Int(line.dropFirst(name.count + 2)) ?? 0
        }
        return 0
    }

    /// Local-share mode (`RATELIMIT_LOCAL_SHARE`, issue 12 §5): each router listener passes its share of a large
    /// quota without asking the ratelimiter and tags the rest, which the ratelimiter counts against what the shares
    /// leave; a small quota stays exact; under the share no request reaches the ratelimiter at all.
    @Test func localShareModePassesTheRoutersShareWithoutACall() async throws {
        // 0.9 of each quota is shared by the stack's two listeners (HTTPS and HTTP), one router.
        let stack = try await GatewayStack(
            label: "rlshare", withRatelimiter: true, environment: ["RATELIMIT_LOCAL_SHARE": "0.9"])
        defer { stack.stop() }
        let token = try await Self.flow.token(stack.deployer)
        // 150/min: 67.5 per listener per minute → 1 per second locally, 2 × 60 = 120 reserved, 30 counted.
        let shared = try await Self.deployLimitedAPI(stack, token: token, prefix: "gw-rlshare", 150, per: "Minute")
        // 60,000/min: 450 per second per listener locally.
        let large = try await Self.deployLimitedAPI(stack, token: token, prefix: "gw-rllarge", 60000, per: "Minute")
        // 5/hour: far too small to share, exact.
        let small = try await Self.deployLimitedAPI(stack, token: token, prefix: "gw-rlsmall", 5, per: "Hour")
        try await stack.waitFor("/\(small)/1.0.0/a", host: "gw.wso2.com", status: 200)
        try await Self.awayFromTheHourBoundary()
        try await Self.awayFromTheMinuteBoundary()

        // Under the share: answered without a call to the ratelimiter, so without quota headers.
        let callsBefore = try await Self.envoyStat(stack, "cluster.apk-system/ratelimiter.upstream_rq_total")
        for _ in 0..<20 {
            let answer = try await Self.call(stack, "/\(large)/1.0.0/a")
            #expect(answer.status == 200 && answer.headers["x-ratelimit-limit"] == nil, "\(answer.status) \(answer.headers)")
        }
        #expect(try await Self.envoyStat(stack, "cluster.apk-system/ratelimiter.upstream_rq_total") == callsBefore)
        #expect(try await Self.envoyStat(stack, "apk_local_share_api.http_local_rate_limit.ok") >= 20)

        // Beyond the share: tagged requests are counted against the 30 the shares leave. The first counted answer
        // may take a moment (the rule reaches the ratelimiter over discovery).
        let path = "/\(shared)/1.0.0/a"
        #expect(try await Poll.until(every: .milliseconds(20)) {
            try await Self.call(stack, path).headers["x-ratelimit-limit"] != nil
        }, "the shared quota is counted beyond the router's share")
        let started = ContinuousClock.now
        var counted = 0, local = 0, refused = 0
        var refusal: Answer?
        while refused < 5, ContinuousClock.now - started < .seconds(20) {
            let answer = try await Self.call(stack, path)
            switch (answer.status, answer.headers["x-ratelimit-limit"]) {
            case (200, nil): local += 1
            case (200, .some(let limit)):
                counted += 1
                #expect(limit.hasPrefix("150, 150;w=60"), "the answer names the whole quota: \(limit)")
                #expect(!answer.body.contains("x-apk-rl-share"), "the tag never reaches the backend: \(answer.body)")
            case (429, _):
                refused += 1
                refusal = answer
            default: Issue.record("unexpected \(answer.status) \(answer.body)")
            }
        }
        let seconds = Int((ContinuousClock.now - started) / .seconds(1)) + 2
        // The poll above counted at least one; together exactly the 30 the shares leave.
        #expect((1...30).contains(counted), "counted \(counted)")
        #expect(local <= seconds, "one per second per listener locally: \(local) in ~\(seconds) s")
        #expect(refused == 5, "refused \(refused) (counted \(counted), local \(local))")
        #expect(refusal?.body.contains("900800") == true && refusal?.headers["x-ratelimit-remaining"] == "0")
        #expect(refusal?.headers["x-ratelimit-limit"]?.hasPrefix("150, 150;w=60") == true)

        // A small quota stays exact: whatever the first counted answer leaves, then 429.
        let smallPath = "/\(small)/1.0.0/a"
        var left: Int?
        #expect(try await Poll.until(every: .milliseconds(50)) {
            left = (try await Self.call(stack, smallPath).headers["x-ratelimit-remaining"]).flatMap { Int($0) }
            return left != nil
        }, "the small quota is enforced")
        let expected = Array(repeating: 200, count: left ?? 0) + [429, 429]
        var statuses: [Int] = []
        for _ in expected { statuses.append(try await Self.call(stack, smallPath).status) }
        #expect(statuses == expected)
    }

    /// What a load of requests saw: statuses, the slowest answer, failures.
    final class LoadTally: @unchecked Sendable {
        private let lock = NSLock()
        private var statuses: [Int: Int] = [:]
        private var slowest: Duration = .zero
        private var answers = 0
        var stop = false

        func record(_ status: Int, _ took: Duration) {
            lock.withLock {
                statuses[status, default: 0] += 1
                slowest = max(slowest, took)
                answers += 1
            }
        }
        var count: Int { lock.withLock { answers } }
        var snapshot: (statuses: [Int: Int], slowest: Duration) { lock.withLock { (statuses, slowest) } }
        var stopped: Bool { lock.withLock { stop } }
        func finish() { lock.withLock { stop = true } }
    }

    /// Redis frozen (SIGSTOP), then killed and started again, while four clients keep calling a limited API through
    /// the router: every answer is 200 (the ratelimiter fails open at its own deadline, and its breaker stops the
    /// waiting), none waits for Redis — the router's own wait is set to 10 s (its maximum) here, so only the
    /// ratelimiter's 50 ms deadline can keep answers quick — and the quotas are enforced again once Redis is back.
    @Test func redisFrozenOrKilledUnderLoadFailsOpenAndLimitsResume() async throws {
        let stack = try await GatewayStack(
            label: "rlfault", withRatelimiter: true, environment: ["RATELIMIT_TIMEOUT": "10s"])
        defer { stack.stop() }
        let redis = try #require(stack.redis)
        let token = try await Self.flow.token(stack.deployer)
        let busy = try await Self.deployLimitedAPI(stack, token: token, prefix: "gw-rlbusy", 1000000, per: "Hour")
        let small = try await Self.deployLimitedAPI(stack, token: token, prefix: "gw-rlfsmall", 3, per: "Hour")
        try await stack.waitFor("/\(small)/1.0.0/a", host: "gw.wso2.com", status: 200)
        try await Self.awayFromTheHourBoundary()
        let path = "/\(busy)/1.0.0/a"
        #expect(try await Poll.until(every: .milliseconds(50)) {
            try await Self.call(stack, path).headers["x-ratelimit-limit"] != nil
        }, "the busy API is counted in Redis")

        let tally = LoadTally()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    while !tally.stopped {
                        let started = ContinuousClock.now
                        let answer = try await Self.call(stack, path)  // curl gives up after 10 s: status 0
                        tally.record(answer.status, ContinuousClock.now - started)
                    }
                }
            }
            func run(_ more: Int) async throws {
                let target = tally.count + more
                #expect(try await Poll.until(every: .milliseconds(20)) { tally.count >= target })
            }
            try await run(40)
            redis.pause()  // connected, answering nothing
            try await run(150)
            redis.resume()
            try await run(40)
            redis.kill()  // connections refused
            try await run(150)
            try await redis.restart()
            try await run(40)
            tally.finish()
            try await group.waitForAll()
        }
        let seen = tally.snapshot
        #expect(seen.statuses.keys.sorted() == [200], "every answer 200: \(seen.statuses)")
        // A hang detector, not a timing target (the whole suite shares two cores): an answer that waited on Redis
        // would take the router's 10 s.
        #expect(seen.slowest < .seconds(5), "slowest answer \(seen.slowest)")
        let metrics = try await HTTP.get("\(try #require(stack.ratelimiter).baseURL)/metrics").text
        let failedOpen = metrics.split(separator: "\n").filter { $0.hasPrefix("apk_ratelimiter_fail_open_total{") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
        #expect(failedOpen > 0, "the outage was answered without Redis:\n\(metrics)")

        // Redis is back (empty): quotas count again.
        let smallPath = "/\(small)/1.0.0/a"
        #expect(try await Poll.until(every: .milliseconds(50)) {
            try await Self.call(stack, smallPath).status == 429
        }, "limits resume once Redis answers again")
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
