import APKUnaryGRPC
import APKXDS
import EnvoyGRPC
import EnvoyProtos
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Synchronization

/// `apk-bench ratelimit PORT [seconds] [concurrency] [rate] [server PID]`: `ShouldRateLimit` load against a
/// ratelimiter (or the always-OK floor of ``RatelimitFloorServer``) on 127.0.0.1:PORT, one descriptor
/// `apk.rule=bench` per call (give the server a rule `bench` with a limit it never reaches).
///
/// 1. **Closed loop**: `concurrency` callers back to back for `seconds`: decisions per second, p50/p99 latency and,
///    with the server's PID, its CPU time per decision (from /proc; decisions per CPU-second = per core).
/// 2. **Open loop** at `rate` calls per second for `seconds`: latency from each call's *scheduled* start (a slow
///    answer delays no later call, so queueing shows in p99 instead of hiding — no coordinated omission).
///
/// Client and server share the machine: on two cores the client's own cost caps the closed-loop figure.
struct RatelimitBenchmark {
    typealias Client = Envoy_Service_Ratelimit_V3_RateLimitService.Client<HTTP2ClientTransport.Posix>

    var port: Int
    var seconds: Int
    var concurrency: Int
    var rate: Int
    var serverPID: Int32?

    func run() async throws {
        print(Machine.describe())
        print("target 127.0.0.1:\(port), \(seconds) s per phase, closed loop \(concurrency) callers, open loop \(rate)/s")
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        try await withGRPCClient(transport: transport) { grpc in
            let client = Client(wrapping: grpc)
            _ = try await closedLoop(client, duration: .seconds(1))  // warm-up: connection, caches, JIT-free paths
            let cpuBefore = serverPID.flatMap(Self.cpuSeconds)
            let closed = try await closedLoop(client, duration: .seconds(seconds))
            let cpuAfter = serverPID.flatMap(Self.cpuSeconds)
            let perSecond = Double(closed.latencies.count) / closed.elapsed.seconds
            print(String(format: "closed loop: %.0f decisions/s, p50 %.3f ms, p99 %.3f ms, %d over limit, %d errors",
                         perSecond, Self.percentile(closed.latencies, 0.5), Self.percentile(closed.latencies, 0.99),
                         closed.overLimit, closed.errors))
            if let cpuBefore, let cpuAfter, !closed.latencies.isEmpty {
                let cpu = cpuAfter - cpuBefore
                print(String(format: "server CPU: %.3f ms per decision, %.0f decisions per CPU-second (per core)",
                             cpu * 1000 / Double(closed.latencies.count), Double(closed.latencies.count) / max(cpu, 1e-9)))
            }
            let open = try await openLoop(client, duration: .seconds(seconds))
            print(String(format: "open loop at %d/s: p50 %.3f ms, p99 %.3f ms, max %.3f ms, %d errors",
                         rate, Self.percentile(open.latencies, 0.5), Self.percentile(open.latencies, 0.99),
                         open.latencies.max() ?? 0, open.errors))
        }
    }

    struct Outcome: Sendable {
        /// Milliseconds per call.
        var latencies: [Double] = []
        var overLimit = 0
        var errors = 0
        var elapsed: Duration = .zero
    }

    static let request: Envoy_Service_Ratelimit_V3_RateLimitRequest = {
        var entry = Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor.Entry()
        entry.key = RateLimitDescriptor.key
        entry.value = "bench"
        var descriptor = Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor()
        descriptor.entries = [entry]
        var request = Envoy_Service_Ratelimit_V3_RateLimitRequest()
        request.domain = "apk"
        request.descriptors = [descriptor]
        return request
    }()

    private func closedLoop(_ client: Client, duration: Duration) async throws -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + duration
        var total = try await withThrowingTaskGroup(of: Outcome.self) { group in
            for _ in 0..<max(concurrency, 1) {
                group.addTask {
                    var outcome = Outcome()
                    while clock.now < end {
                        let sent = clock.now
                        do {
                            let response = try await client.shouldRateLimit(Self.request)
                            if response.overallCode == .overLimit { outcome.overLimit += 1 }
                        } catch {
                            outcome.errors += 1
                        }
                        outcome.latencies.append((clock.now - sent).milliseconds)
                    }
                    return outcome
                }
            }
            return try await group.reduce(into: Outcome()) { total, part in
                total.latencies += part.latencies
                total.overLimit += part.overLimit
                total.errors += part.errors
            }
        }
        total.elapsed = clock.now - start
        return total
    }

    private func openLoop(_ client: Client, duration: Duration) async throws -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        let calls = max(rate, 1) * seconds
        let interval = Duration.seconds(1) / max(rate, 1)
        let results = Results()
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            while next < calls {
                // Launch every call whose time has come, then sleep a tick (timer resolution is ~1 ms, not 200 µs).
                let now = clock.now
                while next < calls, start + interval * next <= now {
                    let scheduled = start + interval * next
                    group.addTask {
                        let failed = (try? await client.shouldRateLimit(Self.request)) == nil
                        let latency = (clock.now - scheduled).milliseconds
                        results.outcome.withLock {
                            $0.latencies.append(latency)
                            if failed { $0.errors += 1 }
                        }
                    }
                    next += 1
                }
                try await Task.sleep(for: .milliseconds(1))  // pacing tick
            }
            try await group.waitForAll()
        }
        return results.outcome.withLock { $0 }
    }

    /// What the open loop's calls record as they complete.
    private final class Results: Sendable {
        let outcome = Mutex(Outcome())
    }

    /// utime + stime of a process, in seconds (Linux /proc; nil elsewhere or when the process is gone).
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (user + system) / max(ticks, 1)
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(Int(Double(sorted.count) * p), sorted.count - 1)]
    }
}

/// `apk-bench ratelimit-floor PORT`: `ShouldRateLimit` answering OK at once, on the same gRPC server stack as
/// `apk-ratelimiter` (grpc-swift-2 over NIO HTTP/2, ``XDSServerService``): the floor of what any decision costs.
struct RatelimitFloorServer: Envoy_Service_Ratelimit_V3_RateLimitService.SimpleServiceProtocol {
    func shouldRateLimit(
        request: Envoy_Service_Ratelimit_V3_RateLimitRequest, context: ServerContext
    ) async throws -> Envoy_Service_Ratelimit_V3_RateLimitResponse {
        Self.allowed(request)
    }

    /// OK for every descriptor, nothing counted.
    static func allowed(_ request: Envoy_Service_Ratelimit_V3_RateLimitRequest) -> Envoy_Service_Ratelimit_V3_RateLimitResponse {
        var response = Envoy_Service_Ratelimit_V3_RateLimitResponse()
        response.overallCode = .ok
        response.statuses = request.descriptors.map { _ in
            var status = Envoy_Service_Ratelimit_V3_RateLimitResponse.DescriptorStatus()
            status.code = .ok
            return status
        }
        return response
    }

    /// Serves until the process is stopped: on the lean unary server (`lean`, what the ratelimiter runs) or on
    /// grpc-swift-2's.
    static func serve(port: Int, lean: Bool = true) async throws {
        print("always-OK ShouldRateLimit on 127.0.0.1:\(port) (\(lean ? "lean" : "grpc-swift"))")
        if lean {
            let method = UnaryGRPCMethod.sync(
                "/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit", Envoy_Service_Ratelimit_V3_RateLimitRequest.self
            ) { request in allowed(request) }
            try await UnaryGRPCServer(host: "127.0.0.1", port: port, methods: [method], logger: Logger(label: "floor")).run()
        } else {
            try await XDSServerService(host: "127.0.0.1", port: port, services: [RatelimitFloorServer()]).run()
        }
    }
}

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    fileprivate var milliseconds: Double { seconds * 1000 }
}
