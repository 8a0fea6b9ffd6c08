import APKModel
import APKTestSupport
import Foundation
import Testing
import APKConversion

/// OpenAPI / Swagger → apk-conf (contract §5.1): fixtures against golden files, and the individual rules.
@Suite struct OpenAPIConverterTests {
    static let fixtures = [
        "petstore-3.0.yaml", "inventory-3.1.json", "library-swagger-2.0.yaml", "params-servers-scopes-3.0.yaml",
        "unicode-title-3.0.yaml", "large-600-ops-3.0.json",
    ]

    static func baseName(_ fixture: String) -> String { (fixture as NSString).deletingPathExtension }

    static func convert(_ text: String) throws(APKError) -> ApkConf {
        try OpenAPIConverter().apkConf(fromDefinition: Data(text.utf8))
    }

    @Test(arguments: fixtures)
    func fixtureMatchesGoldenAndLoads(_ fixture: String) throws {
        let conf = try OpenAPIConverter().apkConf(fromDefinition: try Fixtures.data("openapi/\(fixture)"))
        let difference = try Golden.difference(
            conf.yaml(), goldenFile: "golden/apk-conf/\(Self.baseName(fixture)).yaml")
        #expect(difference == nil, "\(difference ?? "")")
        // Every fixture has servers, so the conf must be deployable as produced.
        #expect(try ApkConfLoader().load(conf.jsonValue) == conf)
    }

    @Test func basePathIsBase64OfTitleAndVersion() throws {
        #expect(OpenAPIConverter.basePath(title: "sample-api", version: "2.0.0") == "/c2FtcGxlLWFwaTIuMC4w")
        let conf = try Self.convert(
            """
            openapi: 3.0.3
            info: {title: sample-api, version: 2.0.0}
            paths: {/a: {get: {responses: {"200": {description: OK}}}}}
            """)
        #expect(conf.name == "sample-api")
        #expect(conf.version == "2.0.0")
        #expect(conf.basePath == "/c2FtcGxlLWFwaTIuMC4w")
        #expect(conf.type == .rest)
        #expect(!conf.defaultVersion && !conf.subscriptionValidation)
    }

    @Test func basePathDropsPaddingAndMapsPlusToDash() {
        // base64("~~~1") = "fn5+MQ==", base64("??>1") = "Pz8+MQ=="
        #expect(OpenAPIConverter.basePath(title: "~~~", version: "1") == "/fn5-MQ")
        #expect(OpenAPIConverter.basePath(title: "??>", version: "1") == "/Pz8-MQ")
        #expect(
            OpenAPIConverter.basePath(title: "Café Bücher API 日本", version: "1.0.0")
                == "/Q2Fmw6kgQsO8Y2hlciBBUEkg5pel5pysMS4wLjA")
        let basePath = OpenAPIConverter.basePath(title: String(repeating: "\u{FB}\u{FF}", count: 40), version: "x")
        #expect(basePath.range(of: ApkConfSchema.basePathPattern, options: .regularExpression) != nil)
    }

    @Test func operationsFollowDocumentOrderAndMethodOrder() throws {
        let conf = try Self.convert(
            """
            openapi: 3.0.3
            info: {title: Order, version: "1"}
            paths:
              /zebra:
                options: {responses: {"200": {description: OK}}}
                post: {responses: {"200": {description: OK}}}
                get: {responses: {"200": {description: OK}}}
              /apple/{id}:
                head: {responses: {"200": {description: OK}}}
                patch: {responses: {"200": {description: OK}}}
                delete: {responses: {"200": {description: OK}}}
                put: {responses: {"200": {description: OK}}}
                trace: {responses: {"200": {description: OK}}}
              /mango: {}
              /:
                get: {responses: {"200": {description: OK}}}
            """)
        #expect(
            conf.operations.map { "\($0.verb) \($0.target)" } == [
                "GET /zebra", "POST /zebra", "OPTIONS /zebra", "PUT /apple/{id}", "DELETE /apple/{id}",
                "PATCH /apple/{id}", "HEAD /apple/{id}", "GET /",
            ])
        // `scopes: []` on every operation without scopes, as the reference writes it.
        #expect(conf.operations.allSatisfy { $0.secured && $0.scopes == [] && $0.endpointConfigurations == nil })
        #expect(conf.endpointConfigurations == nil)
    }

    /// The reference reads scopes only from an operation's own requirement on the scheme `default` (or `x-scope`, or
    /// `OAuth2Security`): this fixture's schemes have other names, and its document-level requirement is not read.
    @Test func scopesOfOtherSchemesAndDocumentLevelAreNotRead() throws {
        let conf = try OpenAPIConverter().apkConf(
            fromDefinition: try Fixtures.data("openapi/params-servers-scopes-3.0.yaml"))
        #expect(conf.operations.count == 7)
        #expect(conf.operations.allSatisfy { $0.scopes == [] })
    }

    @Test func onlyTheDefaultAndOAuth2SecuritySchemesCount() throws {
        let conf = try Self.convert(
            """
            {"openapi": "3.0.0", "info": {"title": "t", "version": "1"},
             "security": [{"OAuth2Security": ["a"]}],
             "paths": {"/x": {"get": {"responses": {"200": {"description": "OK"}}}},
                       "/y": {"get": {"security": [{"default": ["b"]}], "responses": {"200": {"description": "OK"}}}},
                       "/z": {"get": {"security": [{"OAuth2Security": ["b"]}], "responses": {"200": {"description": "OK"}}}}},
             "components": {"securitySchemes": {
               "OAuth2Security": {"type": "oauth2", "flows": {"password": {"tokenUrl": "https://t", "scopes": {"a": ""}}}},
               "default": {"type": "oauth2", "flows": {"implicit": {"authorizationUrl": "https://t", "scopes": {"b": ""}}}}}}}
            """)
        // /x: the document-level requirement is not read; /z: the declared set is `default`'s implicit flow.
        #expect(conf.operations.map(\.scopes) == [[], ["b"], ["b"]])
    }

    @Test func undeclaredScopeIsAnInvalidDefinition() throws {
        let error = #expect(throws: APKError.self) {
            try Self.convert(
                """
                openapi: 3.0.3
                info: {title: t, version: "1"}
                paths:
                  /pets:
                    get:
                      security: [{default: [pets:read, pets:fly]}]
                      responses: {"200": {description: OK}}
                components:
                  securitySchemes:
                    default: {type: oauth2, flows: {implicit: {authorizationUrl: "https://a", scopes: {pets:read: r}}}}
                """)
        }
        #expect(error?.code == 90091)
        #expect(error?.status == 400)
        let message = error?.definitionProblems?.first?.message ?? ""
        #expect(message.contains("pets:fly") && message.contains("paths['/pets'].get"), "\(message)")
    }

    @Test func swaggerTwoIsConverted() throws {
        let conf = try OpenAPIConverter().apkConf(fromDefinition: try Fixtures.data("openapi/library-swagger-2.0.yaml"))
        #expect(conf.name == "Library")
        #expect(conf.version == "2.1")
        #expect(conf.endpointConfigurations?.production?.first?.endpoint == .url("https://library.example.com:8443/library/v2"))
        // Scopes follow the OpenAPI 3 rules (the scheme `library_auth` is not `default`: none).
        #expect(
            conf.operations.map { "\($0.verb) \($0.target) \($0.scopes ?? [])" } == [
                "GET /books []", "POST /books []", "GET /books/{bookId} []", "DELETE /books/{bookId} []",
                "PUT /books/{bookId}/cover []", "POST /loans []",
            ])
    }

    @Test func swaggerServerFromHostBasePathAndFirstScheme() throws {
        func server(_ extra: String) throws -> String? {
            let conf = try Self.convert(
                "swagger: '2.0'\ninfo: {title: s, version: '1'}\n\(extra)\npaths: {/a: {get: {responses: {'200': {description: OK}}}}}")
            guard case .url(let url)? = conf.endpointConfigurations?.production?.first?.endpoint else { return nil }
            return url
        }
        #expect(try server("host: api.example.com\nbasePath: /v1\nschemes: [http, https]") == "http://api.example.com/v1")
        #expect(try server("host: api.example.com") == "https://api.example.com")
        #expect(try server("basePath: /v1") == nil)  // relative: not an endpoint
    }

    /// Only the first document-level server becomes the endpoint; path- and operation-level servers are ignored
    /// (the reference deletes them before parsing).
    @Test func onlyTheFirstDocumentServerBecomesTheEndpoint() throws {
        let conf = try OpenAPIConverter().apkConf(
            fromDefinition: try Fixtures.data("openapi/params-servers-scopes-3.0.yaml"))
        #expect(conf.endpointConfigurations?.production?.first?.endpoint == .url("https://orders.example.com:8443/orders/v2"))
        #expect(conf.endpointConfigurations?.production?.count == 1)
        #expect(conf.operations.allSatisfy { $0.endpointConfigurations == nil })
    }

    @Test func relativeOrUnsupportedServerIsNotAnEndpoint() throws {
        for url in ["/v1", "ftp://files.example.com", "https://", "https:///x", "{scheme}://x.example.com"] {
            let conf = try Self.convert(
                """
                {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "servers": [{"url": "\(url)"}],
                 "paths": {"/a": {"get": {"responses": {"200": {"description": "OK"}}}}}}
                """)
            #expect(conf.endpointConfigurations == nil, "\(url)")
        }
    }

    /// As the reference: a document without a usable operation gives `operations: []` (deploying it is refused).
    @Test(arguments: [
        #"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}}"#,
        #"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}"#,
        #"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"trace": {"responses": {"200": {"description": "OK"}}}}}}"#,
        "swagger: '2.0'\ninfo: {title: t, version: '1'}\n",
    ])
    func noOperationsGivesAnEmptyList(_ text: String) throws {
        let conf = try Self.convert(text)
        #expect(conf.operations.isEmpty)
        #expect(conf.yaml().hasSuffix("operations: []\n"))
    }

    @Test func graphQLAndGRPCAreNotSupportedYet() throws {
        for type in [ApkConf.APIType.graphql, .grpc] {
            let error = #expect(throws: APKError.self) {
                try OpenAPIConverter().apkConf(fromDefinition: Data("type Query { a: Int }".utf8), apiType: type)
            }
            #expect(error?.code == 909006)
        }
    }
}
