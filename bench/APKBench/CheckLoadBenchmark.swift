import APKAuthPlan
import EnvoyGRPC
import EnvoyProtos
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// `apk-bench check-load`: the enforcer's `Check` at a fixed request rate (open loop: each call is sent at its
/// scheduled time whatever the previous ones did, and its latency counts from that time, so a stall is not
/// hidden), the way the issue states its target ("`Check` p99 ≤ 1 ms at 1,000 RPS"). Two steps, interleaved round
/// after round, medians:
/// - `floor`: the `Check` of an unsecured operation (the enforcer answers without reading a credential): what the
///   gRPC transport, the generator and the handler cost;
/// - `jwt + 2 scopes`: a secured operation with the deployer's access token (verification cached after the first
///   call, as in steady state), the plan an `enforcer`-mode route carries.
/// The client is grpc-swift-2 on the same machine; Envoy's own gRPC client is not in the loop.
struct CheckLoadBenchmark {
    let host: String
    let port: Int
    let token: String
    let rate: Int
    let seconds: Int
    let rounds: Int
    /// A second enforcer serving `Check` with grpc-swift-2 (`GRPC_SERVER=grpc-swift`), measured in the same rounds.
    var comparePort: Int? = nil

    func run() async throws {
        var targets = [("lean", port)]
        if let comparePort { targets.append(("grpc-swift", comparePort)) }
        var clients: [(String, Envoy_Service_Auth_V3_Authorization.Client<HTTP2ClientTransport.Posix>)] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (name, port) in targets {
                let transport = try HTTP2ClientTransport.Posix(
                    target: .ipv4(address: host, port: port), transportSecurity: .plaintext)
                let client = GRPCClient(transport: transport)
                group.addTask { try await client.runConnections() }
                clients.append((name, Envoy_Service_Auth_V3_Authorization.Client(wrapping: client)))
            }
            defer { group.cancelAll() }
            try await measure(clients)
        }
    }

    private func measure(
        _ clients: [(String, Envoy_Service_Auth_V3_Authorization.Client<HTTP2ClientTransport.Posix>)]
    ) async throws {
        let requests = [
            ("floor", try Self.request(secured: false, token: token)),
            ("jwt + 2 scopes", try Self.request(secured: true, token: token)),
        ]
        var steps: [(name: String, client: Envoy_Service_Auth_V3_Authorization.Client<HTTP2ClientTransport.Posix>,
                     request: Envoy_Service_Auth_V3_CheckRequest)] = []
        for (server, client) in clients {
            for (name, request) in requests { steps.append(("\(name) (\(server))", client, request)) }
        }
        for step in steps {
            let answer = try await step.client.check(step.request)
            guard answer.status.code == 0 else {
                print("check-load: the \(step.name) Check was refused (code \(answer.status.code)); is the token valid?")
                exit(1)
            }
        }
        for step in steps { _ = await pace(step.client, step.request, seconds: 1) }  // warm-up
        var results: [String: [(p50: Double, p99: Double, p999: Double, achieved: Double)]] = [:]
        for _ in 0..<rounds {
            for step in steps { results[step.name, default: []].append(await pace(step.client, step.request, seconds: seconds)) }
        }
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("Check at \(rate) req/s, \(rounds) interleaved rounds of \(seconds) s, medians (latency from the scheduled send time)")
        print("step                              req/s   p50 ms   p99 ms  p99.9 ms  p99 ÷ floor (lean)")
        let floorP99 = median(results["floor (lean)", default: []].map(\.p99))
        for step in steps {
            let rows = results[step.name, default: []]
            let p99 = median(rows.map(\.p99))
            print(
                step.name.padding(toLength: 31, withPad: " ", startingAt: 0)
                    + String(format: " %7.0f %8.3f %8.3f %9.3f %12.2f", median(rows.map(\.achieved)), median(rows.map(\.p50)),
                             p99, median(rows.map(\.p999)), floorP99 > 0 ? p99 / floorP99 : 0))
        }
    }

    /// A Check as Envoy's ext_authz sends it on a route of the benchmark API (`/bench-auth/1.0/scoped`).
    static func request(secured: Bool, token: String) throws -> Envoy_Service_Auth_V3_CheckRequest {
        let plan = RoutePlan(
            api: APIAuthPlan(
                apiID: "bench-auth", organization: "default", disabled: false,
                credentials: [.oauth2(header: "authorization", sendToUpstream: true), .internalKey(header: "internal-key")],
                subscriptionValidation: false),
            operation: OperationAuthPlan(target: "/scoped", secured: secured, scopes: secured ? ["bench:read", "bench:write"] : []),
            keyType: .production)
        var request = Envoy_Service_Auth_V3_CheckRequest()
        request.attributes.contextExtensions[RoutePlan.contextKey] = try plan.encoded()
        var http = Envoy_Service_Auth_V3_AttributeContext.HttpRequest()
        http.method = "GET"
        http.path = "/bench-auth/1.0/scoped"
        http.host = "gw.wso2.com"
        http.headers = [":method": "GET", ":path": http.path, ":authority": "gw.wso2.com", "authorization": "Bearer " + token]
        request.attributes.request.http = http
        return request
    }

    /// Sends `rate` × `seconds` calls at their scheduled times; latency percentiles in ms and the achieved rate.
    func pace(
        _ authorization: Envoy_Service_Auth_V3_Authorization.Client<HTTP2ClientTransport.Posix>,
        _ request: Envoy_Service_Auth_V3_CheckRequest, seconds: Int
    ) async -> (p50: Double, p99: Double, p999: Double, achieved: Double) {
        let clock = ContinuousClock()
        let total = rate * seconds
        let interval = Duration.nanoseconds(1_000_000_000 / Int64(max(rate, 1)))
        let start = clock.now + .milliseconds(5)
        var latencies: [Double] = []
        latencies.reserveCapacity(total)
        await withTaskGroup(of: Double.self) { group in
            for index in 0..<total {
                let due = start + interval * index
                if due > clock.now { try? await Task.sleep(until: due, tolerance: .microseconds(50), clock: clock) }
                group.addTask {
                    _ = try? await authorization.check(request)
                    let elapsed = clock.now - due
                    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                }
            }
            for await latency in group { latencies.append(latency) }
        }
        let elapsed = clock.now - start
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        latencies.sort()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        return (percentile(0.5), percentile(0.99), percentile(0.999), Double(total) / max(wall, 0.001))
    }

    func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }
}
