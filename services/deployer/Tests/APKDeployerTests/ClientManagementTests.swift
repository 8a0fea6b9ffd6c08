import APKDeployer
import APKModel
import APKStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Client management on the DCR paths (`/dcr/register…`): admin scope, the caller's organization only, the
/// reference's validation codes, secrets shown once and stored hashed, rotation and deletion effective at once.
@Suite struct ClientManagementTests {
    static let registration = #"{"client_name":"orders-cli","grant_types":["client_credentials"],"redirect_uris":["https://app.example/cb"],"scopes":["apk:api_view","orders:read"]}"#

    /// An `apk:admin` token of the development client (organization `default`).
    static func adminToken(_ client: any TestClientProtocol) async throws -> String {
        try await Tokens.fetch(client, scope: "apk:admin")
    }

    /// The registered client's id and secret.
    static func register(
        _ client: any TestClientProtocol, token: String, body: String = registration
    ) async throws -> (id: String, secret: String) {
        let response = try await client.dcr(.post, token: token, json: body)
        guard response.status == .created, let answer = try? JSON.parse(response),
            let id = answer["client_id"]?.stringValue, let secret = answer["client_secret"]?.stringValue
        else { throw TestFailure("registration failed: \(response.status) \(String(buffer: response.body))") }
        return (id, secret)
    }

    @Test func registerShowsTheSecretOnceAndTheClientGetsTokens() async throws {
        let test = TestDeployer()
        try await test.test { client in
            let admin = try await Self.adminToken(client)
            let response = try await client.dcr(.post, token: admin, json: Self.registration)
            #expect(response.status == .created)
            #expect(response.headers[.cacheControl] == "no-store")
            let body = try #require(try JSON.parse(response).objectValue)
            #expect(body.keys == ["client_id", "client_secret", "client_name", "grant_types", "redirect_uris", "scopes", "client_secret_expires_at"])
            #expect(body["client_name"] == "orders-cli")
            #expect(body["grant_types"] == ["client_credentials"])
            #expect(body["redirect_uris"] == ["https://app.example/cb"])
            #expect(body["scopes"] == ["apk:api_view", "orders:read"])
            #expect(body["client_secret_expires_at"] == 0)
            let id = try #require(body["client_id"]?.stringValue)
            let secret = try #require(body["client_secret"]?.stringValue)
            #expect(UUID(uuidString: id) != nil)
            #expect(secret.count >= 43 && !secret.contains(":"))

            let stored = try #require(await test.controlPlane.client(id: id))
            #expect(stored.organization == "default", "the caller's organization")
            #expect(stored.secretHash != secret && !stored.secretHash.contains(secret), "stored hashed")
            #expect(ClientSecret.iterations(of: stored.secretHash) == TestDeployer.iterations, "PBKDF2 with the configured count")
            #expect(ClientSecret.verify(secret, against: stored.secretHash, wantedIterations: TestDeployer.iterations)
                == .match(needsUpgrade: false))

            let granted = try await Tokens.requestToken(
                client, authorization: Tokens.basic(id, secret), scope: "apk:api_view apk:api_create apk:admin")
            #expect(granted.status == .ok)
            #expect(try JSON.parse(granted)["scope"] == "apk:api_view", "only the registered scopes")
            let token = try #require(try JSON.parse(granted)["access_token"]?.stringValue)
            #expect(try Tokens.decode(token).claims["organization"] == "default")
            #expect(try await client.get(Paths.list, token: token).status == .ok)

            // Read and list never show the secret.
            let read = try await client.dcr(.get, "/\(id)", token: admin)
            #expect(read.status == .ok)
            #expect(try JSON.parse(read).objectValue?.keys == ["client_id", "client_name", "grant_types", "redirect_uris", "scopes"])
            #expect(!String(buffer: read.body).contains(secret))
            let list = try await client.dcr(.get, token: admin)
            #expect(list.status == .ok)
            let listed = try #require(try JSON.parse(list)["list"]?.arrayValue)
            #expect(try JSON.parse(list)["count"] == .int(listed.count))
            let listedIDs: [String] = listed.compactMap { $0["client_id"]?.stringValue }
            #expect(listedIDs.contains(id))
            #expect(listed.contains { $0["client_id"] == .string(DevelopmentClient.clientID) }, "the seeded client is listed too")
            #expect(!String(buffer: list.body).contains(secret) && !String(buffer: list.body).contains("client_secret"))
        }
    }

    @Test func minimalRegistrationHasEmptyListsAndOnlyTheDefaultScope() async throws {
        try await TestDeployer().test { client in
            let admin = try await Self.adminToken(client)
            let response = try await client.dcr(.post, token: admin, json: #"{"client_name":"min","grant_types":["client_credentials","client_credentials"],"redirect_uris":null}"#)
            #expect(response.status == .created)
            let body = try JSON.parse(response)
            #expect(body["grant_types"] == ["client_credentials"], "repeats dropped")
            #expect(body["redirect_uris"] == [])
            #expect(body["scopes"] == [])
            let id = try #require(body["client_id"]?.stringValue)
            let secret = try #require(body["client_secret"]?.stringValue)
            let token = try await Tokens.requestToken(client, authorization: Tokens.basic(id, secret), scope: "apk:api_view")
            #expect(try JSON.parse(token)["scope"] == "default")
        }
    }

    static let validationCases: [(body: String, status: Int, answer: String)] = [
        (#"{"grant_types":["client_credentials"]}"#, 400, #"{"error":"100150","error_description":"Client Name is Empty."}"#),
        (#"{"client_name":"","grant_types":["client_credentials"]}"#, 400, #"{"error":"100150","error_description":"Client Name is Empty."}"#),
        (#"{"client_name":"   ","grant_types":["client_credentials"]}"#, 400, #"{"error":"100150","error_description":"Client Name is Empty."}"#),
        (#"{"client_name":null,"grant_types":[]}"#, 400, #"{"error":"100150","error_description":"Client Name is Empty."}"#),
        (#"{"client_name":"a"}"#, 400, #"{"error":"100151","error_description":"grant type list is empty"}"#),
        (#"{"client_name":"a","grant_types":[]}"#, 400, #"{"error":"100151","error_description":"grant type list is empty"}"#),
        (#"{"client_name":"a","grant_types":["client_credentials","password"]}"#, 400,
         #"{"error":"100153","error_description":"password grant type not supported."}"#),
        (#"{"client_name":7,"grant_types":["client_credentials"]}"#, 400,
         #"{"error":"invalid_client_metadata","error_description":"client_name must be a string"}"#),
        (#"{"client_name":"\#(String(repeating: "n", count: 256))","grant_types":["client_credentials"]}"#, 400,
         #"{"error":"invalid_client_metadata","error_description":"client_name is longer than 255 characters"}"#),
        (#"{"client_name":"a\u0007b","grant_types":["client_credentials"]}"#, 400,
         #"{"error":"invalid_client_metadata","error_description":"client_name must not contain control characters"}"#),
        (#"{"client_name":"a","grant_types":"client_credentials"}"#, 400,
         #"{"error":"invalid_client_metadata","error_description":"grant_types must be an array of strings"}"#),
        (#"{"client_name":"a","grant_types":[1]}"#, 400,
         #"{"error":"invalid_client_metadata","error_description":"grant_types must be an array of strings"}"#),
        (#"{"client_name":"a","grant_types":["client_credentials"],"redirect_uris":["/relative"]}"#, 400,
         #"{"error":"invalid_redirect_uri","error_description":"/relative is not an absolute http or https URI without a fragment"}"#),
        (#"{"client_name":"a","grant_types":["client_credentials"],"redirect_uris":["ftp://x.example/"]}"#, 400,
         #"{"error":"invalid_redirect_uri","error_description":"ftp://x.example/ is not an absolute http or https URI without a fragment"}"#),
        (#"{"client_name":"a","grant_types":["client_credentials"],"redirect_uris":["https://x.example/cb#frag"]}"#, 400,
         #"{"error":"invalid_redirect_uri","error_description":"https://x.example/cb#frag is not an absolute http or https URI without a fragment"}"#),
        (#"{"client_name":"a","grant_types":["client_credentials"],"redirect_uris":[\#((0..<17).map { #""https://x.example/\#($0)""# }.joined(separator: ","))]}"#, 400,
         #"{"error":"invalid_client_metadata","error_description":"redirect_uris has more than 16 entries"}"#),
        (#"{"client_name":"a","grant_types":["client_credentials"],"scopes":["ok","bad\"quote"]}"#, 400,
         #"{"error":"invalid_client_metadata","error_description":"bad\"quote is not a scope (RFC 6749 §3.3 scope-token of at most 256 characters)"}"#),
        (#"{"client_name":"a","grant_types":["client_credentials"],"scopes":[""]}"#, 400,
         #"{"error":"invalid_client_metadata","error_description":" is not a scope (RFC 6749 §3.3 scope-token of at most 256 characters)"}"#),
        (#"{"client_name":"a","grant_types":["client_credentials"],"scopes":[\#((0..<65).map { #""s\#($0)""# }.joined(separator: ","))]}"#, 400,
         #"{"error":"invalid_client_metadata","error_description":"scopes has more than 64 entries"}"#),
        (#"{"client_name":"a","grant_types":["client_credentials"],"scopes":"apk:api_view"}"#, 400,
         #"{"error":"invalid_client_metadata","error_description":"scopes must be an array of strings"}"#),
        (#"["client_name"]"#, 400, #"{"error":"invalid_client_metadata","error_description":"The request body must be a JSON object"}"#),
        ("client_name=a", 400, #"{"error":"invalid_client_metadata","error_description":"The request body must be a JSON object"}"#),
        (#"{"client_name":"a","client_name":"b","grant_types":["client_credentials"]}"#, 400,
         #"{"error":"invalid_client_metadata","error_description":"The request body must be a JSON object"}"#),
    ]

    @Test(arguments: validationCases)
    func validationErrorsFollowTheReference(body: String, status: Int, answer: String) async throws {
        let test = TestDeployer()
        try await test.test { client in
            let admin = try await Self.adminToken(client)
            let before = await test.controlPlane.clients(organization: "default")
            let registered = try await client.dcr(.post, token: admin, json: body)
            #expect(registered.status.code == status)
            #expect(String(buffer: registered.body) == answer)
            #expect(registered.headers[.contentType] == "application/json")
            #expect(await test.controlPlane.clients(organization: "default") == before, "nothing stored")
            // PUT validates the same way (before looking the client up).
            let updated = try await client.dcr(.put, "/\(DevelopmentClient.clientID)", token: admin, json: body)
            #expect(updated.status.code == status)
            #expect(String(buffer: updated.body) == answer)
        }
    }

    @Test func bodyMustBeBoundedJSON() async throws {
        try await TestDeployer().test { client in
            let admin = try await Self.adminToken(client)
            let form = try await client.dcr(.post, token: admin, json: Self.registration, contentType: "application/x-www-form-urlencoded")
            #expect(form.status == .unsupportedMediaType)
            #expect(String(buffer: form.body) == #"{"error":"invalid_client_metadata","error_description":"The body must be application/json"}"#)
            let padding = String(repeating: " ", count: 65_536)
            let big = try await client.dcr(.post, token: admin, json: Self.registration + padding)
            #expect(big.status == .contentTooLarge)
            #expect(try JSON.parse(big)["error"] == "invalid_client_metadata")
        }
    }

    @Test func updateReplacesTheMetadataAndKeepsTheSecret() async throws {
        let test = TestDeployer()
        try await test.test { client in
            let admin = try await Self.adminToken(client)
            let (id, secret) = try await Self.register(client, token: admin)
            let response = try await client.dcr(
                .put, "/\(id)", token: admin,
                json: #"{"client_name":"renamed","grant_types":["client_credentials","refresh_token"],"scopes":["apk:api_create"],"client_id":"ignored"}"#)
            #expect(response.status == .ok)
            #expect(
                String(buffer: response.body)
                    == #"{"client_id":"\#(id)","client_name":"renamed","grant_types":["client_credentials","refresh_token"],"redirect_uris":[],"scopes":["apk:api_create"]}"#,
                "omitted redirect_uris are cleared (a PUT replaces the metadata, RFC 7592)")
            let token = try await Tokens.requestToken(client, authorization: Tokens.basic(id, secret), scope: "apk:api_create apk:api_view")
            #expect(try JSON.parse(token)["scope"] == "apk:api_create", "same secret, new scopes")
            #expect(await test.controlPlane.client(id: id)?.organization == "default")

            let unknown = try await client.dcr(.put, "/no-such-client", token: admin, json: Self.registration)
            #expect(unknown.status == .notFound)
            #expect(String(buffer: unknown.body) == #"{"error":"100152","error_description":"no-such-client not found in system."}"#)
        }
    }

    @Test func regenerateSecretShowsItOnceAndTheOldOneStopsAtOnce() async throws {
        try await TestDeployer().test { client in
            let admin = try await Self.adminToken(client)
            let (id, oldSecret) = try await Self.register(client, token: admin)
            let response = try await client.dcr(.post, "/\(id)/regenerate-secret", token: admin)
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            let body = try #require(try JSON.parse(response).objectValue)
            #expect(body.keys == ["client_id", "client_secret", "client_name", "grant_types", "redirect_uris", "scopes", "client_secret_expires_at"])
            #expect(body["client_name"] == "orders-cli")
            let newSecret = try #require(body["client_secret"]?.stringValue)
            #expect(newSecret != oldSecret)

            let old = try await Tokens.requestToken(client, authorization: Tokens.basic(id, oldSecret))
            #expect(old.status == .unauthorized)
            #expect(String(buffer: old.body) == #"{"error":"unauthorized_client","error_description":"Invalide Client Id/Secret"}"#)
            #expect(try await Tokens.requestToken(client, authorization: Tokens.basic(id, newSecret)).status == .ok)
            #expect(!String(buffer: try await client.dcr(.get, "/\(id)", token: admin).body).contains(newSecret))

            let unknown = try await client.dcr(.post, "/no-such-client/regenerate-secret", token: admin)
            #expect(String(buffer: unknown.body) == #"{"error":"100152","error_description":"no-such-client not found in system."}"#)
        }
    }

    @Test func deleteRefusesNewTokensButIssuedOnesRunOut() async throws {
        try await TestDeployer().test { client in
            let admin = try await Self.adminToken(client)
            let (id, secret) = try await Self.register(client, token: admin)
            let issued = try await Tokens.fetch(client, id: id, secret: secret, scope: "apk:api_view")
            let deleted = try await client.dcr(.delete, "/\(id)", token: admin)
            #expect(deleted.status == .noContent)
            #expect(deleted.body.readableBytes == 0)

            let read = try await client.dcr(.get, "/\(id)", token: admin)
            #expect(read.status == .notFound)
            #expect(String(buffer: read.body) == #"{"error":"100152","error_description":"\#(id) not found in system."}"#)
            let again = try await client.dcr(.delete, "/\(id)", token: admin)
            #expect(again.status == .notFound)
            let refused = try await Tokens.requestToken(client, authorization: Tokens.basic(id, secret))
            #expect(refused.status == .unauthorized)
            #expect(String(buffer: refused.body) == #"{"error":"access_denied","error_description":"Invalide Client Id/Secret"}"#)
            #expect(try await client.get(Paths.list, token: issued).status == .ok, "issued tokens stay valid until they expire")
        }
    }

    /// Another organization's clients are invisible: 404 like unknown ones, never listed, never changed.
    @Test func onlyTheCallersOrganizationIsReachable() async throws {
        let test = TestDeployer()
        try await test.test { client in
            let admin = try await Self.adminToken(client)
            let (defaultID, defaultSecret) = try await Self.register(client, token: admin)
            await test.controlPlane.upsertClient(OAuthClient(
                id: "acme-admin", secretHash: ClientSecret.hash("acme-admin-secret", iterations: TestDeployer.iterations), name: "acme admin", organization: "acme",
                allowedScopes: [DeployerScope.admin], grantTypes: ["client_credentials"]))
            let acmeAdmin = try await Tokens.fetch(client, id: "acme-admin", secret: "acme-admin-secret", scope: "apk:admin")

            let list = try JSON.parse(try await client.dcr(.get, token: acmeAdmin))
            #expect(Set(list["list"]?.arrayValue?.compactMap { $0["client_id"]?.stringValue } ?? [])
                    == ["acme-admin", TestDeployer.acmeClientID, TestDeployer.codeOnlyClientID])
            let notFound = #"{"error":"100152","error_description":"\#(defaultID) not found in system."}"#
            for (method, path, body) in [
                (HTTPRequest.Method.get, "/\(defaultID)", nil), (.put, "/\(defaultID)", Self.registration),
                (.post, "/\(defaultID)/regenerate-secret", nil), (.delete, "/\(defaultID)", nil),
            ] as [(HTTPRequest.Method, String, String?)] {
                let response = try await client.dcr(method, path, token: acmeAdmin, json: body)
                #expect(response.status == .notFound, "\(method) \(path)")
                #expect(String(buffer: response.body) == notFound)
            }
            #expect(await test.controlPlane.client(id: defaultID)?.name == "orders-cli")
            #expect(try await Tokens.requestToken(client, authorization: Tokens.basic(defaultID, defaultSecret)).status == .ok)

            let (acmeNew, _) = try await Self.register(client, token: acmeAdmin)
            #expect(await test.controlPlane.client(id: acmeNew)?.organization == "acme")
        }
    }

    /// Every route: 401 900903 without a valid token, 403 900910 without `apk:admin` (§7.6 bodies), also for a
    /// wildcard client, which can never grant itself the admin scope.
    @Test func everyRouteNeedsTheAdminScope() async throws {
        try await TestDeployer().test { client in
            let admin = try await Self.adminToken(client)
            let creator = try await Tokens.fetch(client, scope: "apk:api_create apk:api_view apk:subscribe")
            let (wildcardID, wildcardSecret) = try await Self.register(
                client, token: admin, body: #"{"client_name":"wild","grant_types":["client_credentials"],"scopes":["*"]}"#)
            let wildcard = try await Tokens.fetch(client, id: wildcardID, secret: wildcardSecret, scope: "apk:admin orders:read")
            #expect(try Tokens.decode(wildcard).claims["scope"] == "orders:read")
            let routes: [(HTTPRequest.Method, String, String?, String)] = [
                (.post, "", Self.registration, "/register"), (.get, "", nil, "/register"),
                (.get, "/\(wildcardID)", nil, "/register/{client_id}"),
                (.put, "/\(wildcardID)", Self.registration, "/register/{client_id}"),
                (.delete, "/\(wildcardID)", nil, "/register/{client_id}"),
                (.post, "/\(wildcardID)/regenerate-secret", nil, "/register/{client_id}/regenerate-secret"),
            ]
            for (method, path, body, resource) in routes {
                CallerAuthenticationTests.expectUnauthorized(try await client.dcr(method, path, token: nil, json: body))
                CallerAuthenticationTests.expectUnauthorized(try await client.dcr(method, path, token: "not-a-jwt", json: body))
                CallerAuthenticationTests.expectForbidden(try await client.dcr(method, path, token: creator, json: body), resource: resource)
                CallerAuthenticationTests.expectForbidden(try await client.dcr(method, path, token: wildcard, json: body), resource: resource)
            }
            #expect(try await client.dcr(.get, "/\(wildcardID)", token: admin).status == .ok, "nothing was changed")
        }
    }

    @Test func databaseDownIsInternalError503() async throws {
        let test = TestDeployer()
        try await test.test { client in
            let admin = try await Self.adminToken(client)
            test.outage.set(true)
            let response = try await client.dcr(.get, token: admin)
            #expect(response.status == .serviceUnavailable)
            #expect(String(buffer: response.body) == #"{"error":"100100","error_description":"Internal Error"}"#)
            test.outage.set(false)
            #expect(try await client.dcr(.get, token: admin).status == .ok)
        }
    }
}

extension TestClientProtocol {
    /// A client-management call: `/dcr/register` + `path`, bearer `token`, optional JSON body.
    func dcr(
        _ method: HTTPRequest.Method, _ path: String = "", token: String?, json: String? = nil,
        contentType: String = "application/json"
    ) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = contentType }
        return try await execute(
            uri: "/dcr/register\(path)", method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}
