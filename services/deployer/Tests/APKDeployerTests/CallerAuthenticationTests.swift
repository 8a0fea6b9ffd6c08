import APKDeployer
import APKModel
import Foundation
import Hummingbird
import HummingbirdTesting
import JWTKit
import Testing

/// Bearer-token checks of the deployer endpoints: 401 900903 for every bad token, 403 900910 for a missing scope,
/// both with the enforcer's body of contract §7.6 (the bytes the router sends for user APIs).
@Suite struct CallerAuthenticationTests {
    /// §7.6: pretty-printed, two spaces, `code` a number.
    static let invalidCredentials = """
        {
          "error_message": "Invalid Credentials",
          "code": 900903,
          "error_description": "Make sure you have provided the correct security credentials"
        }
        """

    static func scopeDenied(_ resource: String) -> String {
        """
        {
          "error_message": "The access token does not allow you to access the requested resource",
          "code": 900910,
          "error_description": "User is NOT authorized to access the Resource: \(resource). Scope validation failed."
        }
        """
    }

    static func expectUnauthorized(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == .unauthorized, sourceLocation: sourceLocation)
        #expect(String(buffer: response.body) == Self.invalidCredentials, sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "Application/json", sourceLocation: sourceLocation)
        #expect(response.headers[.wwwAuthenticate] == #"Bearer realm="APK""#, sourceLocation: sourceLocation)
    }

    static func expectForbidden(_ response: TestResponse, resource: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == .forbidden, sourceLocation: sourceLocation)
        #expect(String(buffer: response.body) == Self.scopeDenied(resource), sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "Application/json", sourceLocation: sourceLocation)
        #expect(response.headers[.wwwAuthenticate] == nil, "the router sends no challenge with 403", sourceLocation: sourceLocation)
    }

    private func expectUnauthorized(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        Self.expectUnauthorized(response, sourceLocation: sourceLocation)
    }

    @Test(arguments: [Paths.list, Paths.runtimeList])
    func missingOrMalformedTokenIs401(path: String) async throws {
        try await TestDeployer().test { client in
            expectUnauthorized(try await client.get(path, token: nil))
            expectUnauthorized(try await client.get(path, token: "not-a-jwt"))
            expectUnauthorized(try await client.get(path, token: "a.b.c"))
            let basic = try await client.execute(uri: path, method: .get, headers: [.authorization: "Basic YTpi"])
            expectUnauthorized(basic)
        }
        try await TestDeployer().test { client in
            expectUnauthorized(try await client.deploy(token: nil))
            expectUnauthorized(try await client.post(Paths.undeploy("x"), token: nil))
        }
    }

    @Test func expiredTokenIs401() async throws {
        let test = TestDeployer()
        try await test.test { client in
            let token = try await Tokens.fetch(client)
            #expect(try await client.get(Paths.list, token: token).status == .ok)
            test.clock.advance(seconds: 3600 + 30 + 1)  // TTL + leeway
            expectUnauthorized(try await client.get(Paths.list, token: token))
        }
    }

    @Test func tamperedTokenIs401() async throws {
        try await TestDeployer().test { client in
            let token = try await Tokens.fetch(client, scope: "apk:api_view")
            let parts = token.split(separator: ".")
            var claims = try Tokens.decode(token).claims
            claims["scope"] = "apk:api_create"
            let forged = "\(parts[0]).\(Tokens.encodeSegment(.object(claims))).\(parts[2])"
            expectUnauthorized(try await client.deploy(token: forged))
        }
    }

    @Test(arguments: ["none", "HS256", "RS512", "PS256"])
    func disallowedAlgorithmIs401(algorithm: String) async throws {
        try await TestDeployer().test { client in
            let token = try await Tokens.fetch(client)
            let (header, claims) = try Tokens.decode(token)
            var forgedHeader = header
            forgedHeader["alg"] = .string(algorithm)
            let signature = algorithm == "none" ? "" : String(token.split(separator: ".")[2])
            let forged = "\(Tokens.encodeSegment(.object(forgedHeader))).\(Tokens.encodeSegment(.object(claims))).\(signature)"
            expectUnauthorized(try await client.get(Paths.list, token: forged))
        }
    }

    @Test func tokenOfAnUntrustedIssuerIs401() async throws {
        let key = ES256PrivateKey()
        try await TestDeployer().test { client in
            let token = try await ExternalIssuer.sign(issuer: "https://evil.example.com", key: key, kid: "k1")
            expectUnauthorized(try await client.get(Paths.list, token: token))
        }
    }

    @Test func internalKeyIsNotAnAccessToken() async throws {
        try await TestDeployer().test { client in
            let token = try await Tokens.fetch(client)
            let deployed = try await client.deploy(token: token)
            #expect(deployed.status == .ok)
            let apis = try await client.get(Paths.list, token: token)
            let id = try #require(try JSON.parse(apis)["list"]?.arrayValue?.first?["id"]?.stringValue)
            let key = try #require(try JSON.parse(try await client.post(Paths.generateKey(id), token: token))["apikey"]?.stringValue)
            expectUnauthorized(try await client.get(Paths.list, token: key))
        }
    }

    @Test func tokenWithoutTheScopeIs403() async throws {
        try await TestDeployer().test { client in
            let token = try await Tokens.fetch(client, scope: "apk:api_view")
            Self.expectForbidden(try await client.deploy(token: token), resource: "/apis/deploy")
            Self.expectForbidden(try await client.post(Paths.undeploy("x"), token: token), resource: "/apis/undeploy")
            let defaultOnly = try await Tokens.fetch(client, scope: nil)
            Self.expectForbidden(try await client.get(Paths.list, token: defaultOnly), resource: "/apis")
            Self.expectForbidden(try await client.get(Paths.runtimeList, token: defaultOnly), resource: "/apis")
            Self.expectForbidden(
                try await client.post(Paths.generateKey("x"), token: defaultOnly), resource: "/apis/{apiId}/generate-key")
        }
    }

    /// The other errors of these endpoints keep the §2.4 body (only refused credentials take the §7.6 one).
    @Test func otherErrorsKeepTheAPKBody() async throws {
        try await TestDeployer().test { client in
            let token = try await Tokens.fetch(client)
            let response = try await client.post(Paths.generateKey("nope"), token: token)
            #expect(response.status == .notFound)
            #expect(String(buffer: response.body) == #"{"code":909001,"message":"nope not found","description":"nope not found","moreInfo":{}}"#)
            #expect(response.headers[.contentType] == "application/json")
        }
    }
}

/// An external ES256 issuer for tests, signing with JWTKit (an implementation independent of ours).
enum ExternalIssuer {
    struct Claims: JWTPayload {
        var iss: String
        var sub: String
        var exp: Int
        var iat: Int
        var scope: String
        var organization: String?

        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    static func sign(
        issuer: String, key: ES256PrivateKey, kid: String, scope: String = "apk:api_create apk:api_view",
        organization: String? = "default", now: Date = Date(timeIntervalSince1970: 1_750_000_000)
    ) async throws -> String {
        let keys = await JWTKeyCollection().add(ecdsa: key, kid: JWKIdentifier(string: kid))
        let issuedAt = Int(now.timeIntervalSince1970)
        let claims = Claims(
            iss: issuer, sub: "external-user", exp: issuedAt + 600, iat: issuedAt, scope: scope, organization: organization)
        return try await keys.sign(claims, kid: JWKIdentifier(string: kid))
    }

    /// `{"keys":[{"kty":"EC","crv":"P-256","kid","use","alg","x","y"}]}`.
    static func jwks(_ key: ES256PrivateKey, kid: String) -> String {
        let parameters = key.publicKey.parameters
        return #"{"keys":[{"kty":"EC","crv":"P-256","kid":"\#(kid)","use":"sig","alg":"ES256","x":"\#(parameters?.x ?? "")","y":"\#(parameters?.y ?? "")"}]}"#
    }
}
