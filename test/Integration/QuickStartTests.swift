import APKTestSupport
import Foundation
import Testing

/// The reference README's quick start, verbatim, through the router, with the sample API `./build-apk.sh up`
/// deploys (test/fixtures/quickstart): a token from `idp.am.wso2.com` with the development client, the runtime APIs
/// on `api.am.wso2.com` (list, generate-key), then `GET /http-bin-api/1.0.8/get` on `gw.wso2.com` with the
/// `Internal-Key` → 200, and without a credential → 401 with the APK body. In both enforcement modes.
@Suite(.enabled(if: GatewayStack.available, SkipMessage.gateway), .serialized)
struct QuickStartTests {
    static let flow = DeployerFlowTests()

    @Test(arguments: [GatewayStack.Enforcement.native, .enforcer])
    func referenceQuickStartThroughTheRouter(mode: GatewayStack.Enforcement) async throws {
        let stack = try await GatewayStack(label: "quickstart-\(mode.rawValue)", enforcement: mode, withRatelimiter: true)
        defer { stack.stop() }
        // Deployed as `up` does: the fixture with the endpoint moved to this stack's apk-echo.
        let conf = try Fixtures.text("quickstart/http-bin-api.apk-conf.yaml")
            .replacingOccurrences(of: "http://127.0.0.1:8088", with: stack.echo.baseURL)
        let definition = try Fixtures.text("quickstart/http-bin-api.openapi.yaml")
        let deployed = try await Self.flow.deployedID(
            stack.deployer, token: try await Self.flow.token(stack.deployer), conf: conf, definition: definition)

        // curl -k -X POST https://localhost:9095/oauth2/token -H 'Host: idp.am.wso2.com' -u <dev client> -d …
        let basic = "Basic " + Data(DeployerFlowTests.devClient.utf8).base64EncodedString()
        let tokenAnswer = try await stack.call(
            "/oauth2/token", method: "POST", host: "idp.am.wso2.com", http1: true,
            headers: ["Authorization": basic, "Content-Type": "application/x-www-form-urlencoded"],
            body: "grant_type=client_credentials&scope=apk:api_create")
        #expect(tokenAnswer.status == 200, "\(tokenAnswer.text)")
        let token = try #require(try tokenAnswer.json()["access_token"] as? String)

        // GET /api/runtime/apis (Host api.am.wso2.com): the sample is listed with its id.
        let list = try await stack.call("/api/runtime/apis", host: "api.am.wso2.com", headers: ["Authorization": "Bearer \(token)"])
        #expect(list.status == 200, "\(list.text)")
        let apis = try list.json()["list"] as? [[String: Any]] ?? []
        let sample = try #require(apis.first { $0["name"] as? String == "http-bin-api" }, "\(list.text)")
        #expect(sample["id"] as? String == deployed)

        // POST /api/runtime/apis/<id>/generate-key → {"apikey": …}
        let generated = try await stack.call(
            "/api/runtime/apis/\(deployed)/generate-key", method: "POST", host: "api.am.wso2.com", http1: true,
            headers: ["Authorization": "Bearer \(token)"])
        #expect(generated.status == 200, "\(generated.text)")
        let key = try #require(try generated.json()["apikey"] as? String)

        // The sample API with the key → 200 (apk-echo's description of the request); without → 401 900903.
        let path = "/http-bin-api/1.0.8/get"
        let (allowed, _) = try await stack.waitFor(path, host: "gw.wso2.com", status: 200, headers: ["Internal-Key": key])
        #expect((try allowed.json()["path"] as? String)?.hasSuffix("/get") == true, "\(allowed.text)")
        let refused = try await stack.call(path, host: "gw.wso2.com", credentials: false)
        #expect(refused.status == 401)
        #expect(refused.text == GatewayAuthTests.invalidCredentialsBody)
        // The access token works too (every operation is secured, none needs a scope).
        #expect(try await stack.call(path, host: "gw.wso2.com", headers: ["Authorization": "Bearer \(token)"]).status == 200)

        // The demo quota: GET /uuid answers 10 times a minute, then 429 with the APK body (at most two windows' worth
        // of answers, 20, can come before it when a minute ends during the loop).
        var answers: [Int] = []
        var throttled: HTTP.Response?
        for _ in 0..<40 where throttled == nil {
            let answer = try await stack.call("/http-bin-api/1.0.8/uuid", host: "gw.wso2.com", headers: ["Internal-Key": key])
            answers.append(answer.status)
            if answer.status == 429 { throttled = answer }
        }
        #expect(throttled?.text.contains("900800") == true, "\(mode): \(answers)")
        #expect(answers.dropLast().allSatisfy { $0 == 200 }, "\(answers)")
    }
}
