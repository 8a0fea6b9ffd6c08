import APKModel
import APKStore
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import APKConversion

/// Deploy-to-routable time: from the deploy call's response (deployer REST, real token) to the first 200 through
/// Envoy for the new API, p50/p99 over `deploys` deploys, with `preload` APIs already routable; plus the adapter's
/// resident memory. Same-run baseline, interleaved deploy by deploy: one request through Envoy to an API that is
/// already routable (the floor any propagation measurement has: one poll).
///
/// The stack (PostgreSQL, apk-deployer, apk-adapter, Envoy, apk-echo) is started by `./build-apk.sh bench
/// propagation`, which passes it in the environment: `DATABASE_URL`, `DEPLOY_NAMESPACE`, `DEPLOYER_URL`,
/// `GATEWAY_HTTP_URL` (Envoy's HTTP listener), `ECHO_URL`, `ADAPTER_PID`, optionally `ADAPTER_METRICS_URL` and
/// `ROUTER_ADMIN_URL` (Envoy's admin: its xDS update times are printed too). Preloaded APIs go straight into the
/// store (the deployer's own code path, without HTTP) to keep 10,000 affordable.
struct PropagationBenchmark {
    var preloads: [Int]
    var deploys: Int

    struct Environment {
        var databaseURL: String
        var namespace: String
        var deployerURL: String
        var gatewayURL: String
        var echoURL: String
        var adapterPID: Int32
        var adapterMetricsURL: String?
        var routerAdminURL: String?

        init() throws {
            let env = ProcessInfo.processInfo.environment
            func value(_ name: String) throws -> String {
                guard let value = env[name], !value.isEmpty else { throw BenchError("\(name) is not set") }
                return value
            }
            databaseURL = try value("DATABASE_URL")
            namespace = try value("DEPLOY_NAMESPACE")
            deployerURL = try value("DEPLOYER_URL")
            gatewayURL = try value("GATEWAY_HTTP_URL")
            echoURL = try value("ECHO_URL")
            guard let pid = Int32(try value("ADAPTER_PID")) else { throw BenchError("ADAPTER_PID is not a PID") }
            adapterPID = pid
            adapterMetricsURL = env["ADAPTER_METRICS_URL"]
            routerAdminURL = env["ROUTER_ADMIN_URL"]
        }
    }

    func run() async throws {
        let env = try Environment()
        print(Machine.describe())
        print("deploy → first 200 through Envoy; \(deploys) deploys per step; preload steps \(preloads)")
        var logger = Logger(label: "apk-bench")
        logger.logLevel = .error
        let store = PostgresStore(configuration: try PostgresStore.Configuration(url: env.databaseURL), logger: logger)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.makeService(migrate: false).run() }
                defer { group.cancelAll() }
                try await measure(env: env, store: store, client: client)
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    private func measure(env: Environment, store: PostgresStore, client: HTTPClient) async throws {
        let token = try await Self.token(client: client, deployerURL: env.deployerURL)
        var loaded = 0
        var serial = 0
        for target in preloads {
            if target > loaded {
                print("preloading APIs \(loaded)..<\(target) into the store …")
                for index in loaded..<target {
                    _ = try await store.resources.apply(
                        try Self.bundle(name: "pre-\(index)", echoURL: env.echoURL), namespace: env.namespace)
                }
                loaded = target
                // Wait until the last preloaded API is routable: the adapter has caught up.
                let started = ContinuousClock.now
                try await Self.waitRoutable(client: client, gatewayURL: env.gatewayURL, token: token, name: "pre-\(target - 1)", within: .seconds(600))
                print(String(format: "  adapter + Envoy caught up with %d APIs in %.1f s", target, Self.ms(ContinuousClock.now - started) / 1000))
            }
            let rssLoaded = Self.residentMiB(pid: env.adapterPID)
            let updatesBefore = await Self.adapterUpdates(client: client, metricsURL: env.adapterMetricsURL)
            var subject: [Double] = []
            var baseline: [Double] = []
            var deployCalls: [Double] = []
            let warm = loaded > 0 ? "pre-0" : nil
            for _ in 0..<deploys {
                if let warm {
                    let started = ContinuousClock.now
                    try await Self.waitRoutable(client: client, gatewayURL: env.gatewayURL, token: token, name: warm, within: .seconds(10))
                    baseline.append(Self.ms(ContinuousClock.now - started))
                }
                serial += 1
                let name = "prop-\(loaded)-\(serial)-\(UUID().uuidString.prefix(6).lowercased())"
                let call = ContinuousClock.now
                try await Self.deploy(client: client, deployerURL: env.deployerURL, token: token, name: name, echoURL: env.echoURL)
                let responded = ContinuousClock.now
                deployCalls.append(Self.ms(responded - call))
                try await Self.waitRoutable(client: client, gatewayURL: env.gatewayURL, token: token, name: name, within: .seconds(30))
                subject.append(Self.ms(ContinuousClock.now - responded))
            }
            let rss = Self.residentMiB(pid: env.adapterPID)
            let updatesAfter = await Self.adapterUpdates(client: client, metricsURL: env.adapterMetricsURL)
            print(String(format: "%6d APIs: propagation p50 %.1f ms  p99 %.1f ms  max %.1f ms | deploy call p50 %.1f ms | adapter RSS %.1f MiB (%.1f MiB before the deploys)",
                         loaded, Self.percentile(subject, 0.5), Self.percentile(subject, 0.99), subject.max() ?? 0,
                         Self.percentile(deployCalls, 0.5), rss, rssLoaded))
            if let before = updatesBefore, let after = updatesAfter, after.count > before.count {
                print(String(format: "        adapter: %d translate+assemble rounds during the deploys, mean %.1f ms",
                             Int(after.count - before.count), (after.sum - before.sum) * 1000 / (after.count - before.count)))
            }
            if let admin = env.routerAdminURL,
                let response = try? await client.execute(
                    HTTPClientRequest(url: "\(admin)/stats?filter=(cds|rds).*update_duration$"), timeout: .seconds(5)),
                let body = try? await response.body.collect(upTo: 1 << 20) {
                for line in String(buffer: body).split(separator: "\n") { print("        Envoy \(line)") }
            }
            if let admin = env.routerAdminURL,
                let response = try? await client.execute(HTTPClientRequest(url: "\(admin)/memory"), timeout: .seconds(5)),
                let body = try? await response.body.collect(upTo: 1 << 20),
                let memory = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
                let allocated = (memory["allocated"] as? String).flatMap(Double.init),
                let heap = (memory["heap_size"] as? String).flatMap(Double.init) {
                print(String(format: "        Envoy memory: allocated %.1f MiB, heap %.1f MiB", allocated / 1_048_576, heap / 1_048_576))
            }
            if !baseline.isEmpty {
                print(String(format: "        baseline (one request to a routable API, interleaved): p50 %.2f ms  p99 %.2f ms → propagation p50 = %.0fx baseline",
                             Self.percentile(baseline, 0.5), Self.percentile(baseline, 0.99),
                             Self.percentile(subject, 0.5) / max(Self.percentile(baseline, 0.5), 0.001)))
            }
        }
    }

    // MARK: HTTP

    static func token(client: HTTPClient, deployerURL: String) async throws -> String {
        var request = HTTPClientRequest(url: "\(deployerURL)/oauth2/token")
        request.method = .POST
        // The local stack's development client (a clearly marked fixture, seeded by SEED_DEV_CLIENT=true).
        let credentials = Data("45f1c5c8-a92e-11ed-afa1-0242ac120002:4fbd62ec-a92e-11ed-afa1-0242ac120002".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "grant_type=client_credentials&scope=apk:api_create"))
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok,
            let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
            let token = object["access_token"] as? String
        else { throw BenchError("token request failed: \(response.status)") }
        return token
    }

    static func deploy(client: HTTPClient, deployerURL: String, token: String, name: String, echoURL: String) async throws {
        let boundary = "apk-bench-\(UUID().uuidString)"
        var body = ""
        for (field, file, content) in [("apkConfiguration", "api.apk-conf.yaml", apkConf(name: name, echoURL: echoURL)),
                                       ("definitionFile", "api.yaml", definition(name: name))] {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"\(file)\"\r\n"
            body += "Content-Type: application/octet-stream\r\n\r\n\(content)\r\n"
        }
        body += "--\(boundary)--\r\n"
        var request = HTTPClientRequest(url: "\(deployerURL)/api/deployer/apis/deploy")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .ok else { throw BenchError("deploy of \(name) failed: \(response.status) \(text.prefix(300))") }
    }

    /// Polls `GET /<name>/1.0/items` through Envoy (Host `default.gw.wso2.com`, the operation is secured: with the
    /// bearer `token`, verified by Envoy's `jwt_authn`) until it answers 200.
    static func waitRoutable(
        client: HTTPClient, gatewayURL: String, token: String, name: String, within limit: Duration
    ) async throws {
        let deadline = ContinuousClock.now + limit
        var request = HTTPClientRequest(url: "\(gatewayURL)/\(name)/1.0/items")
        request.headers.add(name: "Host", value: "default.gw.wso2.com")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        while ContinuousClock.now < deadline {
            if let response = try? await client.execute(request, timeout: .seconds(5)) {
                _ = try? await response.body.collect(upTo: 1 << 20)
                if response.status == .ok { return }
            }
            try await Task.sleep(for: .milliseconds(1))  // poll interval
        }
        throw BenchError("\(name) did not become routable within \(limit)")
    }

    // MARK: fixtures

    static func apkConf(name: String, echoURL: String) -> String {
        """
        name: \(name)
        basePath: /\(name)
        version: "1.0"
        type: REST
        endpointConfigurations:
          production:
            - endpoint: \(echoURL)
        operations:
          - {target: /items, verb: GET}
          - {target: /items, verb: POST}
          - {target: "/items/{id}", verb: GET}
          - {target: "/items/{id}", verb: PUT}
        """
    }

    static func definition(name: String) -> String {
        """
        openapi: 3.0.3
        info: {title: \(name), version: "1.0"}
        paths:
          /items:
            get: {responses: {"200": {description: ok}}}
            post: {responses: {"200": {description: ok}}}
          /items/{id}:
            get: {parameters: [{name: id, in: path, required: true, schema: {type: string}}], responses: {"200": {description: ok}}}
            put: {parameters: [{name: id, in: path, required: true, schema: {type: string}}], responses: {"200": {description: ok}}}
        """
    }

    static func bundle(name: String, echoURL: String) throws -> CRBundle {
        let conf = try ApkConfLoader().load(Data(apkConf(name: name, echoURL: echoURL).utf8))
        return try CRBundleBuilder().build(conf: conf, definition: nil, organization: "default")
    }

    // MARK: numbers

    /// Sum (seconds) and count of the adapter's `apk_adapter_update_seconds` histogram (nil without metrics).
    static func adapterUpdates(client: HTTPClient, metricsURL: String?) async -> (sum: Double, count: Double)? {
        guard let metricsURL,
            let response = try? await client.execute(HTTPClientRequest(url: metricsURL), timeout: .seconds(5)),
            let body = try? await response.body.collect(upTo: 16 << 20)
        else { return nil }
        var sum: Double?
        var count: Double?
        for line in String(buffer: body).split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { continue }
            if parts[0] == "apk_adapter_update_seconds_sum" { sum = Double(parts[1]) }
            if parts[0] == "apk_adapter_update_seconds_count" { count = Double(parts[1]) }
        }
        guard let sum, let count else { return nil }
        return (sum, count)
    }

    static func residentMiB(pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kib / 1024
    }

    static func ms(_ d: Duration) -> Double { DeployBenchmark.ms(d) }
    static func percentile(_ values: [Double], _ p: Double) -> Double { DeployBenchmark.percentile(values, p) }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
