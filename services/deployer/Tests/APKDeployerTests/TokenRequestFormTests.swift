import APKDeployer
import APKModel
import APKStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// `POST /oauth2/token` body forms and the reference's order of checks (issue 13 item 4): form data and a JSON
/// object give the same answers; no `grant_type` is 400 `server_error` before client authentication; credentials
/// that are not base64/UTF-8 are 400 `server_error`; the client's grant list is checked before the system's.
@Suite struct TokenRequestFormTests {
    static let serverError = #"{"error":"server_error","error_description":"Server Error occured on generating token"}"#
    static let devBasic = Tokens.basic(DevelopmentClient.clientID, DevelopmentClient.clientSecret)

    static func post(
        _ client: any TestClientProtocol, body: String, contentType: String?, authorization: String? = devBasic
    ) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let contentType { headers[.contentType] = contentType }
        if let authorization { headers[.authorization] = authorization }
        return try await client.execute(uri: "/oauth2/token", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    static func expect(
        _ response: TestResponse, _ status: Int, _ body: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status.code == status, sourceLocation: sourceLocation)
        #expect(String(buffer: response.body) == body, sourceLocation: sourceLocation)
        #expect(response.headers[.cacheControl] == "no-store", sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        ("application/x-www-form-urlencoded", "grant_type=client_credentials&scope=apk:api_create+apk:api_view"),
        ("application/x-www-form-urlencoded; charset=UTF-8", "grant_type=client_credentials&scope=apk%3Aapi_create%20apk:api_view"),
        ("application/json", #"{"grant_type":"client_credentials","scope":"apk:api_create apk:api_view"}"#),
        ("Application/JSON; charset=utf-8", #"{"scope":"apk:api_create apk:api_view","grant_type":"client_credentials","extra":"x"}"#),
    ])
    func formAndJSONBodiesIssueTheSameToken(contentType: String, body: String) async throws {
        try await TestDeployer().test { client in
            let response = try await Self.post(
                client, body: body, contentType: contentType,
                authorization: Tokens.basic(TestDeployer.acmeClientID, TestDeployer.acmeSecret))
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            #expect(response.headers[.cacheControl] == "no-store")
            let answer = try JSON.parse(response)
            #expect(answer["scope"] == "apk:api_create apk:api_view")
            let claims = try Tokens.decode(try #require(answer["access_token"]?.stringValue)).claims
            #expect(claims["organization"] == "acme")
            #expect(claims["scope"] == "apk:api_create apk:api_view")
        }
    }

    /// Scopes are filtered against the client's allowed scopes whatever the body form (ours; the reference echoes).
    @Test func jsonScopesAreFilteredToo() async throws {
        try await TestDeployer().test { client in
            let response = try await Self.post(
                client, body: #"{"grant_type":"client_credentials","scope":"apk:admin apk:api_view unknown"}"#,
                contentType: "application/json", authorization: Tokens.basic(TestDeployer.acmeClientID, TestDeployer.acmeSecret))
            #expect(try JSON.parse(response)["scope"] == "apk:api_view")
        }
    }

    /// No or an empty `grant_type`: 400 `server_error`, before the client is authenticated (no, wrong or
    /// unknown credentials make no difference).
    @Test(arguments: [
        ("application/x-www-form-urlencoded", "scope=apk:api_create"),
        ("application/x-www-form-urlencoded", "grant_type=&scope=apk:api_create"),
        ("application/json", #"{"scope":"apk:api_create"}"#),
        ("application/json", #"{"grant_type":""}"#),
        ("application/json", "{}"),
        (nil, ""),
    ] as [(String?, String)])
    func missingGrantTypeIsServerErrorBeforeClientAuthentication(contentType: String?, body: String) async throws {
        try await TestDeployer().test { client in
            for authorization in [Self.devBasic, nil, Tokens.basic("no-such-client", "x"), "Bearer x"] {
                Self.expect(
                    try await Self.post(client, body: body, contentType: contentType, authorization: authorization),
                    400, Self.serverError)
            }
        }
    }

    /// An `Authorization: Basic` value that is not base64, or not UTF-8 once decoded: 400 `server_error` (the
    /// reference's decode-failure branch); other malformed credentials stay 401 `access_denied`.
    @Test func undecodableBasicCredentialsAreServerError() async throws {
        try await TestDeployer().test { client in
            let form = "grant_type=client_credentials"
            let type = "application/x-www-form-urlencoded"
            let notUTF8 = "Basic " + Data([0xFF, 0xFE, 0x3A, 0x61]).base64EncodedString()
            for authorization in ["Basic !!!notbase64", "Basic abc", notUTF8] {
                Self.expect(try await Self.post(client, body: form, contentType: type, authorization: authorization), 400, Self.serverError)
            }
            let unauthorized = #"{"error":"access_denied","error_description":"Unauthorized"}"#
            for authorization in ["Basic", "Basic    ", Tokens.basic("only-an-id", "")] {
                let response = try await Self.post(client, body: form, contentType: type, authorization: authorization)
                Self.expect(response, 401, unauthorized)
                #expect(response.headers[.wwwAuthenticate] == #"Basic realm="apk""#)
            }
        }
    }

    /// The scheme is case-insensitive (RFC 7235; ours — the reference wants exactly `Basic `).
    @Test(arguments: ["basic", "BASIC", "bAsIc"])
    func basicSchemeIsCaseInsensitive(scheme: String) async throws {
        try await TestDeployer().test { client in
            let credentials = Data("\(DevelopmentClient.clientID):\(DevelopmentClient.clientSecret)".utf8).base64EncodedString()
            let response = try await Self.post(
                client, body: "grant_type=client_credentials", contentType: "application/x-www-form-urlencoded",
                authorization: "\(scheme) \(credentials)")
            #expect(response.status == .ok)
        }
    }

    /// The client's own list first ("… by application."), then what the issuer implements ("… by system.").
    @Test(arguments: [
        (TestDeployer.codeOnlyClientID, TestDeployer.acmeSecret, "password", "password not supported by application."),
        (TestDeployer.codeOnlyClientID, TestDeployer.acmeSecret, "client_credentials", "client_credentials not supported by application."),
        (TestDeployer.codeOnlyClientID, TestDeployer.acmeSecret, "authorization_code", "authorization_code not supported by system."),
        (DevelopmentClient.clientID, DevelopmentClient.clientSecret, "urn:ietf:params:oauth:grant-type:jwt-bearer",
         "urn:ietf:params:oauth:grant-type:jwt-bearer not supported by application."),
        (DevelopmentClient.clientID, DevelopmentClient.clientSecret, "refresh_token", "refresh_token not supported by system."),
    ])
    func grantTypeIsCheckedAgainstTheClientFirst(id: String, secret: String, grant: String, description: String) async throws {
        try await TestDeployer().test { client in
            for (type, body) in [
                ("application/x-www-form-urlencoded", "grant_type=\(grant)"), ("application/json", #"{"grant_type":"\#(grant)"}"#),
            ] {
                Self.expect(
                    try await Self.post(client, body: body, contentType: type, authorization: Tokens.basic(id, secret)),
                    400, #"{"error":"unsupported_grant_type","error_description":"\#(description)"}"#)
            }
        }
    }

    /// Ours (RFC 6749 §3.2): a parameter sent twice is refused, in either form (JSON: a duplicate key).
    @Test(arguments: [
        ("application/x-www-form-urlencoded", "grant_type=client_credentials&grant_type=client_credentials", "grant_type is repeated"),
        ("application/x-www-form-urlencoded", "grant_type=client_credentials&scope=a&scope=b", "scope is repeated"),
        ("application/json", #"{"grant_type":"client_credentials","grant_type":"client_credentials"}"#, "the body is not valid JSON"),
    ])
    func repeatedParametersAreRefused(contentType: String, body: String, description: String) async throws {
        try await TestDeployer().test { client in
            Self.expect(
                try await Self.post(client, body: body, contentType: contentType), 400,
                #"{"error":"invalid_request","error_description":"\#(description)"}"#)
        }
    }

    @Test(arguments: [
        (#"{"grant_type":"client_credentials","scope":["a"]}"#, "the JSON field scope must be a string"),
        (#"{"grant_type":1}"#, "the JSON field grant_type must be a string"),
        (#"{"grant_type":null}"#, "the JSON field grant_type must be a string"),
        (#"["grant_type","client_credentials"]"#, "the JSON body must be an object"),
        (#"{"grant_type":"client_credentials""#, "the body is not valid JSON"),
        ("grant_type=client_credentials", "the body is not valid JSON"),
    ])
    func unusableJSONBodiesAreInvalidRequests(body: String, description: String) async throws {
        try await TestDeployer().test { client in
            Self.expect(
                try await Self.post(client, body: body, contentType: "application/json"), 400,
                #"{"error":"invalid_request","error_description":"\#(description)"}"#)
        }
    }

    @Test func tooManyJSONFieldsAreRefused() async throws {
        try await TestDeployer().test { client in
            let fields = (0...TokenRequestBody.maxFields).map { #""f\#($0)":"v""# }.joined(separator: ",")
            let response = try await Self.post(client, body: "{\(fields)}", contentType: "application/json")
            #expect(response.status == .badRequest)
            #expect(try JSON.parse(response)["error"] == "invalid_request")
        }
    }

    /// The wildcard never grants the admin scope; a client must list it (the development client does).
    @Test func theAdminScopeIsNeverGrantedThroughTheWildcard() async throws {
        #expect(TokenIssuer.grantedScopes(requested: "apk:admin orders:read", allowed: ["*"]) == "orders:read")
        #expect(TokenIssuer.grantedScopes(requested: "apk:admin", allowed: ["*"]) == "default")
        #expect(TokenIssuer.grantedScopes(requested: "apk:admin", allowed: ["*", "apk:admin"]) == "apk:admin")
        #expect(TokenIssuer.grantedScopes(requested: "apk:admin", allowed: ["apk:admin"]) == "apk:admin")
        #expect(TokenIssuer.grantedScopes(requested: "*", allowed: ["*"]) == "default")
        try await TestDeployer().test { client in
            let response = try await Tokens.requestToken(client, authorization: Self.devBasic, scope: "apk:admin apk:api_create")
            #expect(try JSON.parse(response)["scope"] == "apk:admin apk:api_create")
        }
    }

    /// A development client seeded with an earlier fixture list (exactly `*`, or the first quick-start scopes) gets
    /// the current one (with `apk:admin`) on the next bootstrap; one an operator edited keeps its list.
    @Test func theSeedUpgradesOnlyThePreviousFixtureList() async throws {
        let old = TestDeployer()
        var previous = DevelopmentClient.client(
            secretHash: ClientSecret.hash(DevelopmentClient.clientSecret, iterations: TestDeployer.iterations))
        previous.allowedScopes = ["*"]
        await old.controlPlane.upsertClient(previous)
        try await old.deployer.bootstrap(logger: TestDeployer.logger)
        #expect(await old.controlPlane.client(id: DevelopmentClient.clientID)?.allowedScopes == ["*", "apk:admin"])

        // The first fixture's list (before the wildcard) too.
        let older = TestDeployer()
        previous.allowedScopes = ["apk:api_create", "apk:api_view", "apk:subscribe", "default"]
        await older.controlPlane.upsertClient(previous)
        try await older.deployer.bootstrap(logger: TestDeployer.logger)
        #expect(await older.controlPlane.client(id: DevelopmentClient.clientID)?.allowedScopes == ["*", "apk:admin"])

        let edited = TestDeployer()
        previous.allowedScopes = ["apk:api_view"]
        await edited.controlPlane.upsertClient(previous)
        try await edited.deployer.bootstrap(logger: TestDeployer.logger)
        #expect(await edited.controlPlane.client(id: DevelopmentClient.clientID)?.allowedScopes == ["apk:api_view"])
    }
}
