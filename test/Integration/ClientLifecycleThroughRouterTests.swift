import APKTestSupport
import Foundation
import Testing

/// Client management through the router, as a client of the local stack does it (`idp.am.wso2.com` carries
/// `/oauth2/token` and `/dcr/…`, `api.am.wso2.com` the deployer): an `apk:admin` token of the development client
/// registers a client; the new client gets a token and calls a deployer endpoint; its secret is regenerated (the
/// old one is refused at once, the new one works); it is deleted (token requests refused). Refusals of the
/// client-management API itself carry the §7.6 body the router sends for user APIs.
@Suite(.enabled(if: GatewayStack.available, SkipMessage.gateway), .serialized)
struct ClientLifecycleThroughRouterTests {
    static let idp = "idp.am.wso2.com"

    static func basic(_ id: String, _ secret: String) -> String {
        "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()
    }

    /// `POST /oauth2/token` through the router.
    static func token(_ stack: GatewayStack, basic: String, scope: String) async throws -> HTTP.Response {
        try await stack.call(
            "/oauth2/token", method: "POST", host: idp, http1: true,
            headers: ["Authorization": basic, "Content-Type": "application/x-www-form-urlencoded"],
            body: "grant_type=client_credentials&scope=\(scope)")
    }

    /// A `/dcr/register…` call through the router.
    static func dcr(
        _ stack: GatewayStack, _ method: String, _ path: String = "", token: String?, json: String? = nil
    ) async throws -> HTTP.Response {
        var headers: [String: String] = [:]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        if json != nil { headers["Content-Type"] = "application/json" }
        return try await stack.call(
            "/dcr/register\(path)", method: method, host: idp, http1: true, headers: headers, credentials: false, body: json)
    }

    @Test func registerUseRotateDeleteThroughTheRouter() async throws {
        let stack = try await GatewayStack(label: "dcr")
        defer { stack.stop() }
        let dev = Self.basic("45f1c5c8-a92e-11ed-afa1-0242ac120002", "4fbd62ec-a92e-11ed-afa1-0242ac120002")
        let adminAnswer = try await Self.token(stack, basic: dev, scope: "apk:admin")
        #expect(adminAnswer.status == 200, "\(adminAnswer.text)")
        let admin = try #require(try adminAnswer.json()["access_token"] as? String)
        #expect(try adminAnswer.json()["scope"] as? String == "apk:admin")

        // Refusals of the client-management API: the §7.6 body, as the router's own 401/403.
        let anonymous = try await Self.dcr(stack, "GET", token: nil)
        #expect(anonymous.status == 401)
        #expect(anonymous.text == GatewayAuthTests.invalidCredentialsBody)
        let creator = try #require(try await Self.token(stack, basic: dev, scope: "apk:api_create").json()["access_token"] as? String)
        let forbidden = try await Self.dcr(stack, "GET", token: creator)
        #expect(forbidden.status == 403)
        #expect(forbidden.text.contains(#""code": 900910"#) && forbidden.text.contains("Resource: /register. Scope validation failed."),
                "\(forbidden.text)")

        // Register.
        let name = "it-dcr-\(UUID().uuidString.prefix(6).lowercased())"
        let registered = try await Self.dcr(
            stack, "POST", token: admin,
            json: #"{"client_name":"\#(name)","grant_types":["client_credentials"],"scopes":["apk:api_view"]}"#)
        #expect(registered.status == 201, "\(registered.text)")
        let body = try registered.json()
        let id = try #require(body["client_id"] as? String)
        let secret = try #require(body["client_secret"] as? String)
        #expect(body["client_name"] as? String == name)
        #expect(body["client_secret_expires_at"] as? Int == 0)
        let read = try await Self.dcr(stack, "GET", "/\(id)", token: admin)
        #expect(read.status == 200 && !read.text.contains(secret), "\(read.text)")

        // The new client: a token, then a deployer endpoint through the router.
        let granted = try await Self.token(stack, basic: Self.basic(id, secret), scope: "apk:api_view")
        #expect(granted.status == 200, "\(granted.text)")
        let viewer = try #require(try granted.json()["access_token"] as? String)
        let listed = try await stack.call(
            "/api/deployer/apis", host: "api.am.wso2.com", headers: ["Authorization": "Bearer \(viewer)"], credentials: false)
        #expect(listed.status == 200, "\(listed.text)")
        #expect(try listed.json()["list"] is [Any])
        let notAllowed = try await stack.call(
            "/api/deployer/apis/undeploy?apiId=x", method: "POST", host: "api.am.wso2.com", http1: true,
            headers: ["Authorization": "Bearer \(viewer)"], credentials: false)
        #expect(notAllowed.status == 403 && notAllowed.text.contains(#""code": 900910"#), "\(notAllowed.text)")

        // Rotate: the old secret is refused at once, the new one works.
        let rotated = try await Self.dcr(stack, "POST", "/\(id)/regenerate-secret", token: admin)
        #expect(rotated.status == 200, "\(rotated.text)")
        let newSecret = try #require(try rotated.json()["client_secret"] as? String)
        #expect(newSecret != secret)
        let old = try await Self.token(stack, basic: Self.basic(id, secret), scope: "apk:api_view")
        #expect(old.status == 401)
        #expect(old.text == #"{"error":"unauthorized_client","error_description":"Invalide Client Id/Secret"}"#)
        #expect(try await Self.token(stack, basic: Self.basic(id, newSecret), scope: "apk:api_view").status == 200)

        // Delete: token requests are refused; the client is gone.
        let deleted = try await Self.dcr(stack, "DELETE", "/\(id)", token: admin)
        #expect(deleted.status == 204, "\(deleted.text)")
        let refused = try await Self.token(stack, basic: Self.basic(id, newSecret), scope: "apk:api_view")
        #expect(refused.status == 401)
        #expect(refused.text == #"{"error":"access_denied","error_description":"Invalide Client Id/Secret"}"#)
        let gone = try await Self.dcr(stack, "GET", "/\(id)", token: admin)
        #expect(gone.status == 404)
        #expect(gone.text == #"{"error":"100152","error_description":"\#(id) not found in system."}"#)
    }
}
