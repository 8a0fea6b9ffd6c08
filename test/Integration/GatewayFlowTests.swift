import APKModel
import APKStore
import APKTestSupport
import Foundation
import Logging
import Testing

/// Deployed APIs through the real data path: deployer REST → PostgreSQL → apk-adapter → ADS → Envoy 1.40 → apk-echo.
/// Every call goes through Envoy on its HTTPS listener (SNI + Host) or its HTTP listener (Host).
@Suite(.enabled(if: GatewayStack.available, SkipMessage.gateway), .serialized)
struct GatewayFlowTests {
    static let flow = DeployerFlowTests()

    /// An http-bin-like apk-conf against the test's echo backend; `extra` adds operations.
    static func apkConf(name: String, echo: ServiceProcess, extra: [String] = []) -> (conf: Data, definition: Data) {
        let operations = ["GET /get", "POST /post", "GET /anything/{id}"] + extra
        let conf = """
            name: \(name)
            basePath: /\(name)
            version: 1.0.8
            type: REST
            defaultVersion: true
            endpointConfigurations:
              production:
                - endpoint: \(echo.baseURL)
              sandbox:
                - endpoint: \(echo.baseURL)/sandbox
            operations:
            \(operations.map { "  - {verb: \($0.split(separator: " ")[0]), target: \"\($0.split(separator: " ")[1])\"}" }.joined(separator: "\n"))
            """
        var paths: [String: [String]] = [:]
        for operation in operations {
            let parts = operation.split(separator: " ")
            paths[String(parts[1]), default: []].append(parts[0].lowercased())
        }
        let definition = """
            openapi: 3.0.3
            info: {title: \(name), version: 1.0.8}
            paths:
            \(paths.keys.sorted().map { path in
                "  \"\(path)\":\n" + paths[path]!.map { "    \($0): {responses: {\"200\": {description: ok}}}" }.joined(separator: "\n")
            }.joined(separator: "\n"))
            """
        return (Data(conf.utf8), Data(definition.utf8))
    }

    func deploy(_ stack: GatewayStack, token: String, name: String, extra: [String] = []) async throws -> String {
        let files = Self.apkConf(name: name, echo: stack.echo, extra: extra)
        let response = try await Self.flow.deploy(stack.deployer, token: token, conf: files.conf, definition: files.definition)
        #expect(response.status == 200, "\(response.text)")
        return try #require(response.text.split(separator: "\n").first { $0.hasPrefix("id: ") }?.dropFirst(4)).description.replacingOccurrences(of: "\"", with: "")
    }

    @Test func deployRouteUpdateAndUndeployThroughEnvoy() async throws {
        let stack = try await GatewayStack(label: "flow")
        defer { stack.stop() }
        let token = try await Self.flow.token(stack.deployer)
        stack.credentials = ["Authorization": "Bearer \(token)"]  // any valid token: the operations have no scopes
        let name = "gw-flow-\(UUID().uuidString.prefix(6).lowercased())"
        let id = try await deploy(stack, token: token, name: name)

        // HTTPS with SNI gw.wso2.com (the default organization's production alias), query string kept.
        let first = try await stack.waitFor("/\(name)/1.0.8/get?x=1", host: "gw.wso2.com", status: 200)
        let echoed = try first.response.json()
        #expect(echoed["path"] as? String == "/get")
        #expect((echoed["args"] as? [String: Any])?["x"] as? String == "1")
        // Scoped routing's key header is Envoy's own: never forwarded, and a client's value changes nothing.
        let headers = (echoed["headers"] as? [String: Any] ?? [:]).keys.map { $0.lowercased() }
        #expect(!headers.isEmpty && !headers.contains("x-apk-scope-path"), "\(headers)")
        let spoofed = try await stack.call(
            "/\(name)/1.0.8/get", host: "gw.wso2.com", headers: ["x-apk-scope-path": "/api/deployer"])
        #expect(spoofed.status == 200)
        #expect(try spoofed.json()["path"] as? String == "/get")
        // HTTP listener, organization host, path parameter, trailing slash.
        let item = try await stack.call("/\(name)/1.0.8/anything/42", host: "default.gw.wso2.com", https: false)
        #expect(item.status == 200)
        #expect(try item.json()["path"] as? String == "/anything/42")
        // Method routing: POST /get is not an operation (APK 404 body); POST /post is, with its body. The 404 is
        // Envoy's early reply to a request with a body: over HTTP/1.1 (see `GatewayStack.call` for curl 7.88's bug).
        let wrongMethod = try await stack.call(
            "/\(name)/1.0.8/get", method: "POST", host: "default.gw.wso2.com", http1: true, body: "x")
        #expect(wrongMethod.status == 404)
        #expect(try wrongMethod.json()["code"] as? String == "404")
        // The reference's router body: code (a string), message, description.
        #expect(try wrongMethod.json()["message"] as? String == "Not Found")
        #expect(try wrongMethod.json()["code"] as? String == "404")
        let posted = try await stack.call("/\(name)/1.0.8/post", method: "POST", host: "default.gw.wso2.com",
                                          headers: ["Content-Type": "application/json"], body: #"{"a":1}"#)
        #expect(posted.status == 200)
        #expect(try posted.json()["method"] as? String == "POST")
        #expect(try posted.json()["data"] as? String == #"{"a":1}"#)
        // Sandbox is its own virtual host with its own backend base path.
        let sandbox = try await stack.call("/\(name)/1.0.8/get", host: "default.sandbox.gw.wso2.com")
        #expect(sandbox.status == 200)
        #expect(try sandbox.json()["path"] as? String == "/sandbox/get")
        // Default version: also served without the version segment.
        let unversioned = try await stack.call("/\(name)/get", host: "default.gw.wso2.com")
        #expect(unversioned.status == 200)
        // Unknown host and unknown path: APK 404.
        #expect(try await stack.call("/\(name)/1.0.8/get", host: "other.gw.wso2.com").status == 404)
        #expect(try await stack.call("/\(name)/1.0.8/nope", host: "gw.wso2.com").status == 404)
        // A first path segment no API uses has no scope at all: still the APK 404 body.
        let noScope = try await stack.call("/no-such-api-\(UUID().uuidString.prefix(6))/get", host: "gw.wso2.com")
        #expect(noScope.status == 404)
        #expect(try noScope.json()["code"] as? String == "404")
        // System APIs through the router: the token endpoint and the deployer's REST API.
        let viaRouter = try await stack.call(
            "/api/deployer/apis", host: "api.am.wso2.com", headers: ["Authorization": "Bearer \(token)"])
        #expect(viaRouter.status == 200, "\(viaRouter.text)")
        #expect(viaRouter.text.contains(id))
        let tokenViaRouter = try await stack.call(
            "/oauth2/token", method: "POST", host: "idp.am.wso2.com",
            headers: ["Authorization": "Basic \(Data(DeployerFlowTests.devClient.utf8).base64EncodedString())",
                      "Content-Type": "application/x-www-form-urlencoded"],
            body: "grant_type=client_credentials&scope=apk:api_create")
        #expect(tokenViaRouter.status == 200, "\(tokenViaRouter.text)")

        // Update adds an operation.
        #expect(try await stack.call("/\(name)/1.0.8/uuid", host: "gw.wso2.com").status == 404)
        _ = try await deploy(stack, token: token, name: name, extra: ["GET /uuid", "GET /*"])
        try await stack.waitFor("/\(name)/1.0.8/uuid", host: "gw.wso2.com", status: 200)
        // The bare base path with a query string: the scope key is the path without its query.
        let root = try await stack.call("/\(name)?y=2", host: "gw.wso2.com")
        #expect(root.status == 200, "\(root.text)")
        #expect((try root.json()["args"] as? [String: Any])?["y"] as? String == "2")

        // Undeploy: gone from Envoy, with the APK body.
        let undeployed = try await HTTP.send(
            "POST", "\(stack.deployer.baseURL)/api/deployer/apis/undeploy?apiId=\(id)",
            headers: ["Authorization": "Bearer \(token)"], body: nil)
        #expect(undeployed.status == 202)
        let gone = try await stack.waitFor("/\(name)/1.0.8/get", host: "gw.wso2.com", status: 404)
        #expect(try gone.response.json()["description"] as? String == "The requested resource is not available.")
    }

    /// Issue 13 item 5: what the router cannot serve as configured is visible through the runtime API — here an
    /// endpoint certificate whose ConfigMap does not exist (the reference accepts such an apk-conf too). The status
    /// is `Pending` until the adapter reports on this generation, then names the missing ConfigMap.
    @Test func runtimeAPIShowsWhatTheGatewayCouldNotServe() async throws {
        let stack = try await GatewayStack(label: "status")
        defer { stack.stop() }
        let token = try await Self.flow.token(stack.deployer)
        let name = "gw-status-\(UUID().uuidString.prefix(6).lowercased())"
        let conf = """
            name: \(name)
            basePath: /\(name)
            version: "1"
            type: REST
            endpointConfigurations:
              production:
                - endpoint: \(stack.echo.baseURL)
              sandbox:
                - endpoint: https://sandbox.example.com
                  certificate:
                    secretName: missing-ca-\(name)
                    secretKey: ca.crt
            operations:
              - {verb: GET, target: /get}
            """
        let definition = "openapi: 3.0.3\ninfo: {title: \(name), version: \"1\"}\npaths: {/get: {get: {responses: {\"200\": {description: ok}}}}}\n"
        let response = try await Self.flow.deploy(stack.deployer, token: token, conf: Data(conf.utf8), definition: Data(definition.utf8))
        #expect(response.status == 200, "\(response.text)")
        let id = try #require(response.text.split(separator: "\n").first { $0.hasPrefix("id: ") }?.dropFirst(4))
            .description.replacingOccurrences(of: "\"", with: "")
        var status: [String: Any] = [:]
        let reported = try await Poll.until {
            let answer = try await HTTP.get(
                "\(stack.deployer.baseURL)/api/runtime/apis/\(id)", headers: ["Authorization": "Bearer \(token)"])
            status = (try answer.json()["deploymentStatus"] as? [String: Any]) ?? [:]
            return status["status"] as? String != "Pending"
        }
        #expect(reported, "the adapter never reported on the deploy")
        #expect(status["status"] as? String == "PartiallyDeployed", "\(status)")
        #expect((status["message"] as? String ?? "").contains("missing-ca-\(name)"), "\(status)")
        // The production environment is served meanwhile.
        stack.credentials = ["Authorization": "Bearer \(token)"]
        _ = try await stack.waitFor("/\(name)/1/get", host: "gw.wso2.com", status: 200)
    }

    @Test func adapterRestartAndRejectedAPI() async throws {
        let stack = try await GatewayStack(label: "faults")
        defer { stack.stop() }
        let token = try await Self.flow.token(stack.deployer)
        stack.credentials = ["Authorization": "Bearer \(token)"]
        let name = "gw-faults-\(UUID().uuidString.prefix(6).lowercased())"
        _ = try await deploy(stack, token: token, name: name)
        try await stack.waitFor("/\(name)/1.0.8/get", host: "gw.wso2.com", status: 200)
        let versionsBefore = try await stack.envoy.configVersions()

        // Adapter restarted while Envoy serves traffic: every request during and after the restart succeeds.
        let traffic = Task {
            var failures: [Int] = []
            var count = 0
            while !Task.isCancelled {
                guard let response = try? await stack.call("/\(name)/1.0.8/get", host: "gw.wso2.com", https: false)
                else { break }  // cancelled while waiting for curl
                count += 1
                if response.status != 200 { failures.append(response.status) }
            }
            return (count, failures)
        }
        try await stack.restartAdapter()
        // After reconnecting, Envoy runs the same configuration (same content-hash versions: nothing to resend).
        let deadline = ContinuousClock.now + Poll.hangLimit
        while try await stack.envoy.configVersions() != versionsBefore, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))  // poll interval
        }
        #expect(try await stack.envoy.configVersions() == versionsBefore)
        // The new adapter serves new deploys.
        let second = "gw-faults2-\(UUID().uuidString.prefix(6).lowercased())"
        _ = try await deploy(stack, token: token, name: second)
        try await stack.waitFor("/\(second)/1.0.8/get", host: "gw.wso2.com", status: 200)
        traffic.cancel()
        let (count, failures) = await traffic.value
        #expect(count > 0)
        #expect(failures.isEmpty, "\(failures.count) of \(count) requests failed: \(failures.prefix(10))")

        // A resource Envoy rejects (an invalid RE2 regex, written straight into the store as a Kubernetes user
        // could) affects only that API: it is set aside with the router's error in its status.
        try await withStore { store in
            let bad = Self.badBundle(name: "gw-bad-\(UUID().uuidString.prefix(6).lowercased())", echo: stack.echo)
            _ = try await store.resources.apply(bad, namespace: stack.namespace)
            let key = ResourceKey(kind: "API", namespace: stack.namespace, name: bad.apiID)
            let deadline = ContinuousClock.now + Poll.hangLimit
            var message = ""
            while ContinuousClock.now < deadline {
                let stored = try await store.resources.get(key)
                let deployment = stored?.status?.objectValue?["deploymentStatus"]?.objectValue
                message = deployment?["message"]?.stringValue ?? ""
                if deployment?["accepted"]?.boolValue == false { break }
                try await Task.sleep(for: .milliseconds(50))  // poll interval
            }
            #expect(message.contains("rejected by the router"), "status message: \(message)")
        }
        #expect(try await stack.call("/\(name)/1.0.8/get", host: "gw.wso2.com").status == 200)
        let third = "gw-faults3-\(UUID().uuidString.prefix(6).lowercased())"
        _ = try await deploy(stack, token: token, name: third)
        try await stack.waitFor("/\(third)/1.0.8/get", host: "gw.wso2.com", status: 200)
    }

    /// An API whose HTTPRoute regex RE2 cannot compile.
    static func badBundle(name: String, echo: ServiceProcess) -> CRBundle {
        func resource(_ apiVersion: String, _ kind: String, _ resourceName: String, _ spec: JSONValue) -> K8sResource {
            K8sResource(apiVersion: apiVersion, kind: kind, metadata: ObjectMeta(name: resourceName),
                        body: JSONObject([("spec", spec)]))
        }
        let api = resource("dp.wso2.com/v1alpha3", "API", name, .object(JSONObject([
            ("apiName", .string(name)), ("apiVersion", .string("1")), ("apiType", .string("REST")),
            ("basePath", .string("/\(name)/1")), ("isDefaultVersion", .bool(false)), ("organization", .string("default")),
            ("definitionPath", .string("/api-definition")),
            ("production", .array([.object(JSONObject([("routeRefs", .array([.string("\(name)-route")]))]))])),
        ])))
        let route = resource("gateway.networking.k8s.io/v1beta1", "HTTPRoute", "\(name)-route", .object(JSONObject([
            ("hostnames", .array([.string("default.gw.wso2.com")])),
            ("parentRefs", .array([.object(JSONObject([
                ("group", .string("gateway.networking.k8s.io")), ("kind", .string("Gateway")),
                ("name", .string("wso2-apk-default")),
            ]))])),
            ("rules", .array([.object(JSONObject([
                ("matches", .array([.object(JSONObject([
                    ("path", .object(JSONObject([("type", .string("RegularExpression")), ("value", .string("/bad)("))]))),
                    ("method", .string("GET")),
                ]))])),
                ("backendRefs", .array([.object(JSONObject([
                    ("group", .string("dp.wso2.com")), ("kind", .string("Backend")), ("name", .string("\(name)-backend")),
                ]))])),
            ]))])),
        ])))
        let port = Int(echo.baseURL.split(separator: ":").last ?? "80") ?? 80
        let backend = resource("dp.wso2.com/v1alpha2", "Backend", "\(name)-backend", .object(JSONObject([
            ("services", .array([.object(JSONObject([("host", .string("127.0.0.1")), ("port", .int(port))]))])),
            ("protocol", .string("http")),
        ])))
        return CRBundle(apiID: name, organization: "default", resources: [api, route, backend])
    }

    /// A PostgresStore on the test database with its service running around `body`.
    func withStore(_ body: (PostgresStore) async throws -> Void) async throws {
        var logger = Logger(label: "apk.it.store")
        logger.logLevel = .error
        let url = try #require(TestEnvironment.databaseURL)
        let store = PostgresStore(configuration: try PostgresStore.Configuration(url: url), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.makeService(migrate: false).run() }
            defer { group.cancelAll() }
            try await body(store)
        }
    }
}
