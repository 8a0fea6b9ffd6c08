import APKTestSupport
import Foundation
import Testing

/// Authentication and authorization in both enforcement modes, with the same expectations: Envoy's native filters
/// (`jwt_authn`, RBAC, local replies) compiled by the adapter, and `apk-enforcer` over ext_authz. The real data path (deployer REST → PostgreSQL → apk-adapter → ADS → Envoy 1.40 → apk-echo), tokens
/// and internal keys minted by the real deployer. Expected bodies are contract §7.6 (the reference's enforcer bodies).
@Suite(.enabled(if: GatewayStack.available, SkipMessage.gateway), .serialized)
struct GatewayAuthTests {
    static let flow = DeployerFlowTests()

    static let invalidCredentialsBody = """
        {
          "error_message": "Invalid Credentials",
          "code": 900903,
          "error_description": "Make sure you have provided the correct security credentials"
        }
        """

    /// An API with a scoped operation, an open one and a plain secured one (and a sandbox endpoint).
    func deploy(_ stack: GatewayStack, token: String, name: String) async throws -> String {
        let files = TestAPI(name: name, operations: [
            .init(verb: "GET", target: "/get"),
            .init(verb: "GET", target: "/anything/{id}", extra: #"scopes: ["apk:api_view"]"#),
            .init(verb: "GET", target: "/uuid", extra: "secured: false"),
        ]).files(endpoint: stack.echo.baseURL, sandbox: stack.echo.baseURL + "/sandbox")
        return try await Self.flow.deployedID(stack.deployer, token: token, conf: files.conf, definition: files.definition)
    }

    func expectInvalidCredentials(_ response: HTTP.Response, _ comment: Comment) {
        #expect(response.status == 401, comment)
        #expect(response.text == Self.invalidCredentialsBody, comment)
    }

    @Test(arguments: [GatewayStack.Enforcement.native, .enforcer])
    func theGatewayAuthenticatesAndAuthorizesEveryRequest(mode: GatewayStack.Enforcement) async throws {
        let stack = try await GatewayStack(label: "auth-\(mode.rawValue)", enforcement: mode)
        defer { stack.stop() }
        let token = try await Self.flow.token(stack.deployer)  // scope apk:api_create only
        let name = "gw-auth-\(UUID().uuidString.prefix(6).lowercased())"
        let other = "gw-auth2-\(UUID().uuidString.prefix(6).lowercased())"
        let id = try await deploy(stack, token: token, name: name)
        let otherID = try await deploy(stack, token: token, name: other)
        let get = "/\(name)/1.0.0/get"
        // Open operation: routable (and the way to know the API is deployed) without credentials.
        try await stack.waitFor("/\(name)/1.0.0/uuid", host: "gw.wso2.com", status: 200)
        try await stack.waitFor("/\(other)/1.0.0/uuid", host: "gw.wso2.com", status: 200)

        // No credentials: 401 900903, exact body, APK content type and challenge (HTTPS/2 and HTTP/1.1).
        let missing = try await stack.call(get, host: "gw.wso2.com")
        expectInvalidCredentials(missing, "no credentials")
        let headers = try await stack.call(get, host: "default.gw.wso2.com", https: false)
        expectInvalidCredentials(headers, "no credentials over HTTP")
        let raw = try await Command.run([
            "curl", "-sSk", "-D", "-", "-o", "/dev/null", "--resolve", "gw.wso2.com:\(stack.httpsPort):127.0.0.1",
            "https://gw.wso2.com:\(stack.httpsPort)\(get)",
        ]).output.lowercased()
        #expect(raw.contains("content-type: application/json"), "\(raw)")
        #expect(raw.contains(#"www-authenticate: bearer realm="apk""#), "\(raw)")

        // Hostile or wrong credentials: all 401 900903.
        for (label, value) in [
            ("garbage", "Bearer not-a-jwt"), ("not bearer", "Basic \(token)"), ("tampered", "Bearer \(token.dropLast(2))xx"),
        ] {
            expectInvalidCredentials(
                try await stack.call(get, host: "gw.wso2.com", headers: ["Authorization": value]), "\(label)")
        }

        // A valid access token: allowed, and forwarded (sendTokenToUpstream defaults to true).
        let allowed = try await stack.call(get, host: "gw.wso2.com", headers: ["Authorization": "Bearer \(token)"])
        #expect(allowed.status == 200, "\(allowed.text)")
        let echoed = try allowed.json()["headers"] as? [String: Any] ?? [:]
        #expect(echoed.keys.contains { $0.lowercased() == "authorization" })

        // Internal keys: this API's key on production → 200 and never forwarded; another API's key → 401; a
        // production key on sandbox → 401; an internal key as a bearer token → 401.
        let key = try await Self.flow.internalKey(stack.deployer, token: token, api: id)
        let otherKey = try await Self.flow.internalKey(stack.deployer, token: token, api: otherID)
        let withKey = try await stack.call(get, host: "gw.wso2.com", headers: ["Internal-Key": key])
        #expect(withKey.status == 200, "\(withKey.text)")
        let forwarded = try withKey.json()["headers"] as? [String: Any] ?? [:]
        #expect(!forwarded.keys.contains { $0.lowercased() == "internal-key" }, "\(forwarded.keys)")
        expectInvalidCredentials(
            try await stack.call(get, host: "gw.wso2.com", headers: ["Internal-Key": otherKey]), "another API's key")
        expectInvalidCredentials(
            try await stack.call(get, host: "default.sandbox.gw.wso2.com", headers: ["Internal-Key": key]),
            "production key on sandbox")
        expectInvalidCredentials(
            try await stack.call(get, host: "gw.wso2.com", headers: ["Authorization": "Bearer \(key)"]),
            "internal key as an access token")
        #expect(try await stack.call("/\(other)/1.0.0/get", host: "gw.wso2.com", headers: ["Internal-Key": otherKey])
            .status == 200)

        // Scopes: a token without apk:api_view → 403 900910 naming the operation; with it → 200; an internal key
        // is not scope-checked.
        let scoped = "/\(name)/1.0.0/anything/7"
        let denied = try await stack.call(scoped, host: "gw.wso2.com", headers: ["Authorization": "Bearer \(token)"])
        #expect(denied.status == 403, "\(denied.text)")
        #expect(denied.text == """
            {
              "error_message": "The access token does not allow you to access the requested resource",
              "code": 900910,
              "error_description": "User is NOT authorized to access the Resource: /anything/(.*). Scope validation failed."
            }
            """)
        let viewer = try await Self.flow.token(stack.deployer, scope: "apk:api_view%20apk:api_create")
        let granted = try await stack.call(scoped, host: "gw.wso2.com", headers: ["Authorization": "Bearer \(viewer)"])
        #expect(granted.status == 200, "\(granted.text)")
        #expect(try await stack.call(scoped, host: "gw.wso2.com", headers: ["Internal-Key": key]).status == 200)

        // A client cannot set the gateway's own headers: x-apk-* never reaches the backend.
        let spoofed = try await stack.call(
            get, host: "gw.wso2.com", headers: ["Authorization": "Bearer \(token)", "X-APK-Identity": "admin"])
        let spoofedHeaders = try spoofed.json()["headers"] as? [String: Any] ?? [:]
        #expect(!spoofedHeaders.keys.contains { $0.lowercased().hasPrefix("x-apk-") }, "\(spoofedHeaders.keys)")

        guard mode == .enforcer else { return }
        // Fail closed: without the enforcer a secured operation is 503 with an APK body and never reaches the
        // backend; an open one still answers. Back when the enforcer is.
        stack.stopEnforcer()
        let unavailable = try await stack.call(get, host: "gw.wso2.com", headers: ["Internal-Key": key])
        #expect(unavailable.status == 503, "\(unavailable.text)")
        #expect((try? unavailable.json())?["code"] as? String == "102517", "\(unavailable.text)")
        #expect(try await stack.call("/\(name)/1.0.0/uuid", host: "gw.wso2.com").status == 200)
        try await stack.startEnforcer()
        try await stack.waitFor(get, host: "gw.wso2.com", status: 200, headers: ["Internal-Key": key])
    }
}
