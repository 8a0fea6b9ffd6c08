package import Foundation

/// The data path of one test: apk-echo, apk-deployer, apk-adapter and a real Envoy, each on free loopback ports,
/// sharing the test PostgreSQL in a namespace of their own. `stop()` ends exactly these processes.
package final class GatewayStack: @unchecked Sendable {  // used from one test task
    package let namespace: String
    package let nodeID: String
    package let echo: ServiceProcess
    package let deployer: ServiceProcess
    package private(set) var adapter: ServiceProcess
    /// `apk-enforcer`, started when the stack runs in ``Enforcement/enforcer`` mode.
    package private(set) var enforcer: ServiceProcess?
    /// `apk-ratelimiter` and its `redis-server`, started with `withRatelimiter: true`.
    package private(set) var ratelimiter: ServiceProcess?
    package private(set) var redis: RedisServerProcess?
    package let envoy: EnvoyProcess
    package let xdsPort: Int
    package let httpsPort: Int
    package let httpPort: Int
    package let directory: URL
    private let adapterEnvironment: [String: String]
    private let enforcerEnvironment: [String: String]
    private var stopped = false

    /// Where the gateway's security decisions run (the adapter's `AUTH_ENFORCEMENT`).
    package enum Enforcement: String, Sendable {
        case native, enforcer
    }
    /// Headers every call sends unless it passes the same header itself or `credentials: false` (APIs are secured:
    /// tests set a bearer token or an internal key here once they have one).
    package var credentials: [String: String] = [:]

    /// True when the test environment names a PostgreSQL and an Envoy binary (`./build-apk.sh test` sets both).
    package static var available: Bool { TestEnvironment.databaseURL != nil && TestEnvironment.envoyBinary != nil }

    /// `testIssuer`: an extra token issuer the router trusts (`AUTH_ISSUERS`; with `trustTestIssuer: false` only its
    /// JWKS is served, for a `TokenIssuer` resource to name), its JWKS served by apk-echo at
    /// `/.well-known/jwks.json` from a file in ``directory``. `apiKeyIssuer`: the `iss` of API keys the router trusts
    /// (`AUTH_API_KEY_ISSUERS`), signed with the test issuer's keys.
    /// `enforcement: .enforcer` also starts `apk-enforcer` (before the adapter) and has the router call it for every
    /// secured request; `withEnforcer: true` starts it in `native` mode too (backend-JWT routes, the router's
    /// `/.wellknown/jwks`). Without an enforcer the adapter is told there is none.
    /// `environment` is added to the deployer's, the adapter's and the enforcer's (e.g. short key-rotation periods).
    /// Waits for a ``StackSlots`` slot first (one stack at a time); ``stop()`` gives it back.
    package convenience init(
        label: String, testIssuer: (issuer: String, jwks: String)? = nil, trustTestIssuer: Bool = true,
        apiKeyIssuer: String? = nil, enforcement: Enforcement = .native, withEnforcer: Bool = false,
        withRatelimiter: Bool = false, environment: [String: String] = [:]
    ) async throws {
        await StackSlots.acquire()
        do {
            try await self.init(
                starting: label, testIssuer: testIssuer, trustTestIssuer: trustTestIssuer, apiKeyIssuer: apiKeyIssuer,
                enforcement: enforcement, withEnforcer: withEnforcer || enforcement == .enforcer,
                withRatelimiter: withRatelimiter, environment: environment)
        } catch {
            StackSlots.release()  // the processes started so far stop as their handles go away
            throw error
        }
    }

    private init(
        starting label: String, testIssuer: (issuer: String, jwks: String)?, trustTestIssuer: Bool, apiKeyIssuer: String?,
        enforcement: Enforcement, withEnforcer: Bool, withRatelimiter: Bool, environment: [String: String]
    ) async throws {
        guard let databaseURL = TestEnvironment.databaseURL, let envoyBinary = TestEnvironment.envoyBinary else {
            throw TestSupportError("APK_TEST_DATABASE_URL and APK_ENVOY_BIN are required")
        }
        let suffix = UUID().uuidString.prefix(8).lowercased()
        namespace = "it-\(label)-\(suffix)"
        nodeID = "gw-\(label)-\(suffix)"
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("apk-gw-\(suffix)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try await Self.makeCertificate(in: directory)

        var echoEnvironment: [String: String] = [:]
        if let testIssuer {
            let file = directory.appendingPathComponent("test-issuer.jwks.json")
            try Data(testIssuer.jwks.utf8).write(to: file)
            echoEnvironment["JWKS_FILE"] = file.path
        }
        echo = try ServiceProcess(executable: "apk-echo", environment: echoEnvironment)
        deployer = try ServiceProcess(executable: "apk-deployer", environment: environment.merging([
            "DATABASE_URL": databaseURL, "SEED_DEV_CLIENT": "true", "DEPLOY_NAMESPACE": namespace,
        ]) { $1 })
        xdsPort = try FreePort.next()
        httpsPort = try FreePort.next()
        httpPort = try FreePort.next()
        var adapterEnvironment = [
            "DATABASE_URL": databaseURL, "WATCH_NAMESPACE": namespace, "GATEWAY_NAME": nodeID,
            "XDS_PORT": String(xdsPort), "GATEWAY_LISTENER_ADDRESS": "127.0.0.1",
            "GATEWAY_HTTPS_PORT": String(httpsPort), "GATEWAY_HTTP_PORT": String(httpPort),
            "GATEWAY_TLS_CERTIFICATE": directory.appendingPathComponent("gateway.crt").path,
            "GATEWAY_TLS_KEY": directory.appendingPathComponent("gateway.key").path,
            "SYSTEM_DEPLOYER_URL": deployer.baseURL, "SYSTEM_CONFIG_URL": "none",
        ]
        adapterEnvironment.merge(environment) { current, _ in current }
        // The enforcer learns the organizations' token issuers from this stack's adapter (node `apk-enforcer`).
        var enforcerEnvironment = environment.merging([
            "AUTH_JWKS_URL": "\(deployer.baseURL)/oauth2/jwks", "DISCOVERY_URL": "http://127.0.0.1:\(xdsPort)",
        ]) { $1 }
        if let testIssuer, trustTestIssuer {
            let issuers = "\(testIssuer.issuer)|\(echo.baseURL)/.well-known/jwks.json"
            adapterEnvironment["AUTH_ISSUERS"] = issuers
            enforcerEnvironment["AUTH_ISSUERS"] = issuers
            if let apiKeyIssuer {
                let apiKeyIssuers = "\(apiKeyIssuer)|\(echo.baseURL)/.well-known/jwks.json"
                adapterEnvironment["AUTH_API_KEY_ISSUERS"] = apiKeyIssuers
                enforcerEnvironment["AUTH_API_KEY_ISSUERS"] = apiKeyIssuers
            }
        }
        let enforcerPort = withEnforcer ? try FreePort.next() : nil
        if let enforcerPort {
            let grpcPort = try FreePort.next()
            enforcerEnvironment["GRPC_PORT"] = String(grpcPort)
            adapterEnvironment["AUTH_ENFORCER_URL"] = "http://127.0.0.1:\(grpcPort)"
            adapterEnvironment["SYSTEM_ENFORCER_JWKS_URL"] = "http://127.0.0.1:\(enforcerPort)"
        } else {
            adapterEnvironment["AUTH_ENFORCER_URL"] = "none"
            adapterEnvironment["SYSTEM_ENFORCER_JWKS_URL"] = "none"
        }
        if enforcement == .enforcer { adapterEnvironment["AUTH_ENFORCEMENT"] = "enforcer" }
        // The ratelimiter counts in a redis-server of its own and learns the rules from this stack's adapter.
        var ratelimiterEnvironment: [String: String]?
        if withRatelimiter {
            let redis = try await RedisServerProcess.start()
            self.redis = redis
            let grpcPort = try FreePort.next()
            ratelimiterEnvironment = environment.merging([
                "GRPC_PORT": String(grpcPort), "REDIS_PORT": String(redis.port), "XDS_PORT": String(xdsPort),
            ]) { $1 }
            adapterEnvironment["RATELIMITER_URL"] = "http://127.0.0.1:\(grpcPort)"
        } else {
            adapterEnvironment["RATELIMITER_URL"] = "none"
        }
        self.adapterEnvironment = adapterEnvironment
        self.enforcerEnvironment = enforcerEnvironment
        adapter = try ServiceProcess(executable: "apk-adapter", environment: adapterEnvironment)
        try await echo.waitUntil(path: "/get")
        try await deployer.waitUntil(path: "/ready")
        if let enforcerPort {
            let enforcer = try ServiceProcess(executable: "apk-enforcer", environment: enforcerEnvironment, port: enforcerPort)
            self.enforcer = enforcer
            try await enforcer.waitUntil(path: "/ready")  // the deployer's keys are in
        }
        try await adapter.waitUntil(path: "/ready")
        if let ratelimiterEnvironment {
            let ratelimiter = try ServiceProcess(executable: "apk-ratelimiter", environment: ratelimiterEnvironment)
            self.ratelimiter = ratelimiter
            try await ratelimiter.waitUntil(path: "/ready")  // the adapter's first rule set is in
        }
        envoy = try EnvoyProcess(binary: envoyBinary, nodeID: nodeID, xdsPort: xdsPort, directory: directory)
        try await envoy.waitUntilReady()
    }

    /// Stops the adapter (it must exit on SIGTERM although Envoy holds an ADS stream open) and starts a new one on
    /// the same ports (Envoy keeps running).
    package func restartAdapter() async throws {
        guard adapter.stop() else { throw TestSupportError("apk-adapter ignored SIGTERM for 10 s:\n\(adapter.logTail())") }
        adapter = try ServiceProcess(executable: "apk-adapter", environment: adapterEnvironment, port: adapter.port)
        try await adapter.waitUntil(path: "/ready")
    }

    /// Stops the enforcer (fail-closed tests); ``startEnforcer()`` brings it back on the same ports.
    package func stopEnforcer() {
        enforcer?.stop()
    }

    /// Stops the ratelimiter (fail-open tests); its Redis keeps running.
    package func stopRatelimiter() {
        _ = ratelimiter?.stop()
    }

    package func startEnforcer() async throws {
        guard let old = enforcer else { throw TestSupportError("the stack runs in native mode") }
        old.stop()
        let restarted = try ServiceProcess(executable: "apk-enforcer", environment: enforcerEnvironment, port: old.port)
        enforcer = restarted
        try await restarted.waitUntil(path: "/ready")
    }

    package func stop() {
        defer {
            if !stopped { StackSlots.release() }
            stopped = true
        }
        // Signal every process first: the waits below then overlap (they block a thread of the test pool).
        envoy.terminate()
        for process in [adapter, enforcer, ratelimiter, deployer, echo].compactMap(\.self) { process.terminate() }
        envoy.stop()
        adapter.stop()
        enforcer?.stop()
        ratelimiter?.stop()
        redis?.stop()
        deployer.stop()
        echo.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A development certificate for the gateway hostnames (openssl, self-signed).
    package static func makeCertificate(in directory: URL) async throws {
        let status = try await Command.run([
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=apk-it",
            "-keyout", directory.appendingPathComponent("gateway.key").path,
            "-out", directory.appendingPathComponent("gateway.crt").path,
            "-addext", "subjectAltName=DNS:*.gw.wso2.com,DNS:gw.wso2.com,DNS:*.sandbox.gw.wso2.com,DNS:api.am.wso2.com,DNS:idp.am.wso2.com,DNS:localhost",
        ]).status
        guard status == 0 else { throw TestSupportError("openssl failed (\(status))") }
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
    package func call(
        _ path: String, method: String = "GET", host: String, https: Bool = true, http1: Bool = false,
        headers: [String: String] = [:], credentials sendCredentials: Bool = true, repeatedHeaders: [(String, String)] = [],
        body: String? = nil
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
        var all = sendCredentials ? credentials : [:]
        for (name, value) in headers {
            all = all.filter { $0.key.lowercased() != name.lowercased() }
            all[name] = value
        }
        for (name, value) in all.sorted(by: { $0.key < $1.key }) { arguments += ["-H", "\(name): \(value)"] }
        // In order, repeats kept, from a file (`-H @file`): a hostile token can be longer than one argument may be.
        let headerFile = directory.appendingPathComponent("headers-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: headerFile) }
        if !repeatedHeaders.isEmpty {
            try Data(repeatedHeaders.map { "\($0.0): \($0.1)\n" }.joined().utf8).write(to: headerFile)
            arguments += ["-H", "@\(headerFile.path)"]
        }
        if let body { arguments += ["--data-binary", body] }
        let result = try await Command.run(arguments + [url], includeErrors: true)
        var lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.popLast() ?? "") ?? 0
        return HTTP.Response(status: status, body: Data(lines.joined(separator: "\n").utf8))
    }

    /// Polls until `path` on `host` answers `status` (each poll is a request); returns the answer and the time taken.
    @discardableResult
    package func waitFor(
        _ path: String, host: String, status: Int, https: Bool = true, headers: [String: String] = [:],
        within limit: Duration = Poll.hangLimit
    ) async throws -> (response: HTTP.Response, elapsed: Duration) {
        let start = ContinuousClock.now
        let deadline = start + limit
        var last = HTTP.Response(status: 0, body: Data())
        while ContinuousClock.now < deadline {
            last = try await call(path, host: host, https: https, headers: headers)
            if last.status == status { return (last, ContinuousClock.now - start) }
            try await Task.sleep(for: .milliseconds(20))  // poll interval
        }
        throw TestSupportError(
            "\(host)\(path) did not answer \(status) within \(limit) (last: \(last.status) \(last.text.prefix(300)))\n"
                + "adapter log:\n\(adapter.logTail())\nenvoy log:\n\(envoy.logTail())")
    }
}

