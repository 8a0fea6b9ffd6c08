import APKDeployer
import APKModel
import APKStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// `POST /oauth2/token` (contract §10.1) and the JWKS endpoints.
@Suite struct OAuthTokenTests {
    @Test func clientCredentialsTokenHasTheContractShape() async throws {
        let test = TestDeployer()
        try await test.test { client in
            let response = try await Tokens.requestToken(
                client, authorization: Tokens.basic(DevelopmentClient.clientID, DevelopmentClient.clientSecret),
                scope: "apk:api_create")
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            let body = try JSON.parse(response)
            #expect(body.objectValue?.keys == ["access_token", "token_type", "expires_in", "scope"])
            #expect(body["token_type"] == "Bearer")
            #expect(body["expires_in"] == 3600)
            #expect(body["scope"] == "apk:api_create")
            let (header, claims) = try Tokens.decode(try #require(body["access_token"]?.stringValue))
            #expect(header["alg"] == "RS256")
            #expect(header["kid"]?.stringValue?.isEmpty == false)
            #expect(claims["iss"] == "https://idp.am.wso2.com/token")
            #expect(claims["sub"] == .string(DevelopmentClient.clientID))
            #expect(claims["clientId"] == .string(DevelopmentClient.clientID))
            #expect(claims["aud"] == "aud1")
            #expect(claims["organization"] == "default")
            #expect(claims["scope"] == "apk:api_create")
            let issuedAt = try #require(claims["iat"]?.intValue)
            #expect(issuedAt == Int(test.clock.now.timeIntervalSince1970))
            #expect(claims["nbf"]?.intValue == issuedAt, "nbf as the reference's tokens")
            #expect(claims["exp"]?.intValue == issuedAt + 3600)
            #expect(claims["jti"]?.stringValue?.count == 36)
        }
    }

    @Test(arguments: [
        ("apk:api_create apk:api_view", "apk:api_create apk:api_view"),
        ("apk:api_create unknown:scope apk:api_create", "apk:api_create"),
        ("unknown:scope", "default"),
        (nil, "default"),
    ] as [(String?, String)])
    func grantsOnlyAllowedScopes(requested: String?, granted: String) async throws {
        try await TestDeployer().test { client in
            let response = try await Tokens.requestToken(
                client, authorization: Tokens.basic(TestDeployer.acmeClientID, TestDeployer.acmeSecret),
                scope: requested)
            #expect(try JSON.parse(response)["scope"] == .string(granted))
        }
    }

    /// The development client may request any scope (the reference's issuer grants what is asked), but only
    /// well-formed scope tokens, never the wildcard itself, and a bounded number of them.
    @Test(arguments: [
        ("orders:read apk:api_create orders:read", "orders:read apk:api_create"),
        ("* orders:read", "orders:read"),
        ("bad%22quote bad%5Cslash ok", "ok"),  // form-encoded `"` and `\`: not scope-token characters
        (String(repeating: "s", count: 257) + " short", "short"),
        (nil, "default"),
    ] as [(String?, String)])
    func theDevelopmentClientMayRequestAnyWellFormedScope(requested: String?, granted: String) async throws {
        try await TestDeployer().test { client in
            let response = try await Tokens.requestToken(
                client, authorization: Tokens.basic(DevelopmentClient.clientID, DevelopmentClient.clientSecret),
                scope: requested)
            #expect(try JSON.parse(response)["scope"] == .string(granted))
        }
    }

    @Test func atMost64ScopesAreGranted() {
        let requested = (0..<100).map { "s\($0)" }.joined(separator: " ")
        let granted = TokenIssuer.grantedScopes(requested: requested, allowed: [TokenIssuer.anyScope])
        #expect(granted.split(separator: " ").count == TokenIssuer.maxScopes)
    }

    @Test func organizationComesFromTheClient() async throws {
        try await TestDeployer().test { client in
            let token = try await Tokens.fetch(client, id: TestDeployer.acmeClientID, secret: TestDeployer.acmeSecret)
            #expect(try Tokens.decode(token).claims["organization"] == "acme")
        }
    }

    static let errorCases: [(authorization: String?, grant: String?, status: Int, body: String)] = [
        (nil, "client_credentials", 401, #"{"error":"access_denied","error_description":"Unauthorized"}"#),
        ("Bearer abc", "client_credentials", 401, #"{"error":"access_denied","error_description":"Unauthorized"}"#),
        ("Basic", "client_credentials", 401, #"{"error":"access_denied","error_description":"Unauthorized"}"#),
        ("Basic !!!notbase64", "client_credentials", 400,
         #"{"error":"server_error","error_description":"Server Error occured on generating token"}"#),
        (Tokens.basic("a", "b:c"), "client_credentials", 401, #"{"error":"access_denied","error_description":"Unauthorized"}"#),
        (Tokens.basic("", "secret"), "client_credentials", 401, #"{"error":"access_denied","error_description":"Unauthorized"}"#),
        (Tokens.basic("no-such-client", "x"), "client_credentials", 401,
         #"{"error":"access_denied","error_description":"Invalide Client Id/Secret"}"#),
        (Tokens.basic(DevelopmentClient.clientID, "wrong"), "client_credentials", 401,
         #"{"error":"unauthorized_client","error_description":"Invalide Client Id/Secret"}"#),
        (Tokens.basic(DevelopmentClient.clientID, DevelopmentClient.clientSecret), "password", 400,
         #"{"error":"unsupported_grant_type","error_description":"password not supported by application."}"#),
        (Tokens.basic(DevelopmentClient.clientID, DevelopmentClient.clientSecret), "authorization_code", 400,
         #"{"error":"unsupported_grant_type","error_description":"authorization_code not supported by system."}"#),
        (Tokens.basic(TestDeployer.codeOnlyClientID, TestDeployer.acmeSecret), "client_credentials", 400,
         #"{"error":"unsupported_grant_type","error_description":"client_credentials not supported by application."}"#),
        (Tokens.basic(DevelopmentClient.clientID, DevelopmentClient.clientSecret), nil, 400,
         #"{"error":"server_error","error_description":"Server Error occured on generating token"}"#),
    ]

    @Test(arguments: errorCases)
    func errorBodiesFollowTheContract(authorization: String?, grant: String?, status: Int, body: String) async throws {
        try await TestDeployer().test { client in
            let response = try await Tokens.requestToken(client, authorization: authorization, grantType: grant)
            #expect(response.status.code == status)
            #expect(String(buffer: response.body) == body)
            #expect(response.headers[.contentType] == "application/json")
        }
    }

    @Test func databaseDownIs503ServerError() async throws {
        let test = TestDeployer()
        try await test.test { client in
            test.outage.set(true)
            let response = try await Tokens.requestToken(
                client, authorization: Tokens.basic(DevelopmentClient.clientID, DevelopmentClient.clientSecret))
            #expect(response.status == .serviceUnavailable)
            #expect(String(buffer: response.body) == #"{"error":"server_error","error_description":"Server Error occured on generating token"}"#)
            test.outage.set(false)
            let recovered = try await Tokens.requestToken(
                client, authorization: Tokens.basic(DevelopmentClient.clientID, DevelopmentClient.clientSecret))
            #expect(recovered.status == .ok)
        }
    }

    @Test func oversizedAndUnknownBodiesAreRefused() async throws {
        try await TestDeployer(configure: { $0.tokenMaxBodyBytes = 256 }).test { client in
            let authorization = Tokens.basic(DevelopmentClient.clientID, DevelopmentClient.clientSecret)
            let big = try await client.execute(
                uri: "/oauth2/token", method: .post,
                headers: [.authorization: authorization, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "grant_type=client_credentials&scope=" + String(repeating: "a", count: 400)))
            #expect(big.status == .contentTooLarge)
            let text = try await client.execute(
                uri: "/oauth2/token", method: .post,
                headers: [.authorization: authorization, .contentType: "text/plain"],
                body: ByteBuffer(string: "grant_type=client_credentials"))
            #expect(text.status == .badRequest)
            #expect(try JSON.parse(text)["error"] == "invalid_request")
        }
    }

    @Test(arguments: ["/oauth2/jwks", "/oauth2/keys"])
    func jwksPublishesTheSigningKey(path: String) async throws {
        try await TestDeployer().test { client in
            let token = try await Tokens.fetch(client)
            let response = try await client.execute(uri: path, method: .get)
            #expect(response.status == .ok)
            let keys = try #require(try JSON.parse(response)["keys"]?.arrayValue)
            #expect(keys.count == 1)
            let key = try #require(keys.first?.objectValue)
            #expect(key.keys == ["kty", "kid", "use", "alg", "n", "e"])
            #expect(key["kty"] == "RSA")
            #expect(key["use"] == "sig")
            #expect(key["alg"] == "RS256")
            #expect(key["e"] == "AQAB")
            #expect((key["n"]?.stringValue?.count ?? 0) >= 342)  // 2048-bit modulus, base64url
            #expect(key["kid"] == (try Tokens.decode(token).header["kid"]))
        }
    }
}
