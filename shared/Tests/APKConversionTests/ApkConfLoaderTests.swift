import APKModel
import APKTestSupport
import Foundation
import Testing
import APKConversion

@Suite("apk-conf loader: semantic rules, defaults, YAML/JSON, round trips, 909029 body")
struct ApkConfLoaderTests {
    private func load(_ fixture: String) throws -> ApkConf {
        try ApkConfLoader().load(try Fixtures.data("apk-conf/\(fixture)"))
    }

    private func loadError(_ document: JSONValue) throws -> APKError {
        try #require(throws: APKError.self) { try ApkConfLoader().load(document) }
    }

    // MARK: semantic rules (§3.2, §4.1)

    @Test func noOperationsIs909021() throws {
        let data = try Fixtures.data("apk-conf/invalid-no-operations.yaml")
        let error = try #require(throws: APKError.self) { try ApkConfLoader().load(data) }
        #expect(error == .noOperations)
        #expect(error.code == 909021)
        #expect(error.status == 406)
    }

    @Test func apiAndOperationRateLimitsTogetherAre909026() throws {
        let data = try Fixtures.data("apk-conf/invalid-both-rate-limits.yaml")
        let error = try #require(throws: APKError.self) { try ApkConfLoader().load(data) }
        #expect(error == .bothRateLimits)
        #expect(error.code == 909026)
        #expect(error.status == 406)
    }

    @Test func operationRateLimitAloneIsAccepted() throws {
        let document = try ConfSamples.edited([
            .remove("/rateLimit"), .set("/operations/1/rateLimit", ["requestsPerUnit": 5, "unit": "Hour"]),
        ])
        let conf = try ApkConfLoader().load(document)
        #expect(conf.operations[1].rateLimit == ApkConf.RateLimit(requestsPerUnit: 5, unit: .hour))
    }

    @Test func operationWithoutAnyEndpointIs909029() throws {
        let data = try Fixtures.data("apk-conf/invalid-missing-endpoints.yaml")
        let error = try #require(throws: APKError.self) { try ApkConfLoader().load(data) }
        #expect(error.code == 909029)
        #expect(error.status == 400)
        #expect(
            error.issues == [
                ValidationIssue(
                    pointer: "#/operations/0/endpointConfigurations",
                    message: "production/sandbox endpoint not available for /employee"),
                ValidationIssue(
                    pointer: "#/operations/1/endpointConfigurations",
                    message: "production/sandbox endpoint not available for /employee"),
            ])
        // The same message twice: one moreInfo entry listing both pointers.
        #expect(error.moreInfo.map(\.key) == ["production/sandbox endpoint not available for /employee"])
        #expect(
            error.moreInfo.first?.value
                == "#/operations/0/endpointConfigurations: production/sandbox endpoint not available for /employee; "
                + "#/operations/1/endpointConfigurations: production/sandbox endpoint not available for /employee")
    }

    @Test func sandboxOnlyEndpointIsEnough() throws {
        let document = try ConfSamples.edited(
            [.remove("/endpointConfigurations/production"), .set("/endpointConfigurations/sandbox/0/endpoint", "http://sb:80")])
        #expect(try ApkConfLoader().load(document).endpointConfigurations?.production == nil)
    }

    static let ruleCases: [SchemaCase] = [
        SchemaCase(
            "REST verb that is not an HTTP method", [.set("/operations/0/verb", "FETCH")], "#/operations/0/verb",
            "FETCH is not a valid enum value (expected one of: GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS)"),
        SchemaCase(
            "GraphQL verb", [.set("/type", "GRAPHQL")],
            ["GET", "POST", "PUT", "DELETE"].enumerated().map {
                ValidationIssue(
                    pointer: "#/operations/\($0.offset)/verb",
                    message: "\($0.element) is not a valid enum value (expected one of: QUERY, MUTATION, SUBSCRIPTION)")
            }),
        SchemaCase(
            "REST target without a leading slash", [.set("/operations/0/target", "employee")], "#/operations/0/target",
            "target [employee] must start with /"),
        SchemaCase(
            "REST target with a wildcard in the middle", [.set("/operations/0/target", "/a/*/b")], "#/operations/0/target",
            "target [/a/*/b] may use * only as its last segment"),
        SchemaCase(
            "duplicate operation", [.set("/operations/1/verb", "GET")], "#/operations/1",
            "duplicate operation GET /employee"),
    ]

    @Test(arguments: ruleCases) func restOperationRules(_ rule: SchemaCase) throws {
        #expect(ConfSamples.issues(try ConfSamples.edited(rule.edits)) == rule.expected)
    }

    @Test func grpcOperationsAreNotPathTemplates() throws {
        let document = try ConfSamples.edited([
            .set("/type", "GRPC"), .remove("/operations/3"), .remove("/operations/2"),
            .set("/operations/0/target", "org.apk.Employee"), .set("/operations/0/verb", "GetEmployee"),
            .set("/operations/1/target", "org.apk.Employee"), .set("/operations/1/verb", "AddEmployee"),
        ])
        #expect(ConfSamples.issues(document) == [])
    }

    @Test func schemaViolationsComeBeforeSemanticRules() throws {
        // Both rate limits and a schema error: the schema error is what the user sees first.
        let error = try loadError(
            try ConfSamples.edited([
                .set("/operations/0/rateLimit", ["requestsPerUnit": 5, "unit": "Hour"]), .set("/defaultVersion", "no"),
            ]))
        #expect(error.code == 909029)
        #expect(error.issues == [ValidationIssue(pointer: "#/defaultVersion", message: "expected type: Boolean, found: String")])
    }

    // MARK: 909029 body (§2.4)

    @Test func contractExampleBody() throws {
        let data = try Fixtures.data("apk-conf/invalid-cors-string-boolean.yaml")
        let error = try #require(throws: APKError.self) { try ApkConfLoader().load(data) }
        #expect(error.code == 909029)
        #expect(error.status == 400)
        #expect(error.message == "Invalid apk-conf provided")
        #expect(error.moreInfo.map(\.key) == ["expected type: Boolean, found: String"])
        #expect(
            error.moreInfo.map(\.value)
                == ["#/corsConfiguration/corsConfigurationEnabled: expected type: Boolean, found: String"])
    }

    @Test func moreInfoGroupsDuplicateMessagesAndIssuesListAll() throws {
        let error = try loadError(
            try ConfSamples.edited([
                .set("/defaultVersion", "true"), .set("/rateLimit/unit", "Week"), .set("/subscriptionValidation", "false"),
            ]))
        let boolean = "expected type: Boolean, found: String"
        let week = "Week is not a valid enum value (expected one of: Minute, Hour, Day)"
        #expect(
            error.issues == [
                ValidationIssue(pointer: "#/defaultVersion", message: boolean),
                ValidationIssue(pointer: "#/subscriptionValidation", message: boolean),
                ValidationIssue(pointer: "#/rateLimit/unit", message: week),
            ])
        #expect(error.moreInfo.map(\.key) == [boolean, week])
        #expect(
            error.moreInfo.map(\.value) == [
                "#/defaultVersion: \(boolean); #/subscriptionValidation: \(boolean)", "#/rateLimit/unit: \(week)",
            ])
        #expect(error.detail == "Invalid apk-conf provided: 3 violations")
    }

    @Test func unreadableInputIs909029AtTheRoot() throws {
        let error = try #require(throws: APKError.self) { try ApkConfLoader().load(Data("  \n".utf8)) }
        #expect(error.code == 909029)
        #expect(error.issues == [ValidationIssue(pointer: "#", message: "the document is empty")])
    }

    @Test func oversizedInputIs413() throws {
        let loader = ApkConfLoader(parser: DocumentParser(maxBytes: 64))
        let data = try Fixtures.data("apk-conf/valid-minimal.yaml")
        let error = try #require(throws: APKError.self) { try loader.load(data) }
        #expect(error == .payloadTooLarge(limit: 64))
    }

    @Test
    func integralDoubleForAnIntegerFieldLoads() throws {
        // SchemaValidator accepts 100.0 as an Integer; the loader must then decode it (or the schema reject it at its
        // pointer) instead of reporting "#: unreadable apk-conf: DecodingError…".
        let document = try ConfSamples.edited([.set("/rateLimit/requestsPerUnit", .double(100))])
        #expect(ConfSamples.issues(document) == [])
        #expect(try ApkConfLoader().load(document).rateLimit?.requestsPerUnit == 100)
    }

    // MARK: defaults (§4.1–§4.5)

    @Test func defaultsAreFilledIn() throws {
        let conf = try load("valid-minimal.yaml")
        #expect(conf.type == .rest)
        #expect(conf.defaultVersion == false)
        #expect(conf.subscriptionValidation == false)
        #expect(conf.operations.count == 4)
        #expect(conf.operations.allSatisfy { $0.secured })
        #expect(conf.authentication == nil)
        #expect(conf.corsConfiguration == nil)
        let cors = try ApkConfLoader().load(try ConfSamples.edited([.set("/corsConfiguration", [:])])).corsConfiguration
        #expect(cors?.corsConfigurationEnabled == false)
    }

    @Test func authenticationDefaultsFollowTheReferenceCode() throws {
        let document = try ConfSamples.edited(
            [.set("/authentication", [["authType": "OAuth2"], ["authType": "APIKey"], ["authType": "JWT"], ["authType": "mTLS"]])])
        let auth = try #require(try ApkConfLoader().load(document).authentication)
        try #require(auth.count == 4)
        let (oauth2, apiKey, jwt, mtls) = (auth[0], auth[1], auth[2], auth[3])
        #expect(oauth2.required == "mandatory")
        #expect(oauth2.enabled)
        #expect(oauth2.sendTokenToUpstream == false)
        #expect(oauth2.headerName == "Authorization")
        #expect(oauth2.headerEnable == true)
        #expect(apiKey.required == "optional")
        #expect(apiKey.enabled)
        #expect(apiKey.sendTokenToUpstream == false)
        #expect(apiKey.headerName == "apiKey")
        #expect(apiKey.queryParamName == "apiKey")
        #expect(apiKey.headerEnable == true)
        #expect(apiKey.queryParamEnable == false)
        #expect(jwt.headerName == "Authorization")
        #expect(jwt.sendTokenToUpstream == false)
        #expect(jwt.audience == [])
        #expect(mtls.required == "optional")
        #expect(mtls.enabled)
    }

    @Test func givenAuthenticationValuesWinOverDefaults() throws {
        let auth = try #require(try load("valid-full.yaml").authentication)
        #expect(auth[1].headerName == "X-API-Key")
        #expect(auth[1].queryParamName == "apiKey")
    }

    @Test func policyVersionDefaultsToV1() throws {
        let conf = try load("valid-full.yaml")
        #expect(conf.apiPolicies?.request?.map(\.policyVersion) == ["v2", "v1"])
        #expect(conf.apiPolicies?.response?.first?.policyVersion == "v1")
        #expect(conf.operations[2].operationPolicies?.request?.first?.policyVersion == "v1")
        #expect(conf.apiPolicies?.request?.first?.string("headerName") == "X-Api")
    }

    // MARK: YAML, JSON and round trips

    @Test func yamlAndJSONGiveTheSameConf() throws {
        let fromYAML = try load("valid-full.yaml")
        #expect(try load("valid-full.json") == fromYAML)
        #expect(fromYAML.endpointConfigurations?.sandbox?.first?.endpoint != nil)
    }

    @Test(arguments: ["valid-minimal.yaml", "valid-full.yaml", "valid-full.json"])
    func yamlRoundTrips(_ fixture: String) throws {
        let conf = try load(fixture)
        let yaml = conf.yaml()
        #expect(yaml.hasPrefix("---\n"))
        #expect(try ApkConfLoader().load(Data(yaml.utf8)) == conf)
        #expect(conf.yaml() == yaml, "same conf, same bytes")
    }

    @Test func yamlFieldsFollowTheDeclarationOrder() throws {
        // valid-full.json lists its keys in a scrambled order; the YAML written from it uses the model's order.
        let written = try DocumentParser().parse(Data(try load("valid-full.json").yaml().utf8))
        #expect(
            written.objectValue?.keys == [
                "id", "name", "basePath", "version", "type", "definitionPath", "defaultVersion", "subscriptionValidation",
                "environment", "endpointConfigurations", "aiProvider", "operations", "apiPolicies", "rateLimit",
                "authentication", "additionalProperties", "corsConfiguration",
            ])
        #expect(written["operations"]?.arrayValue?.first?.objectValue?.keys == ["target", "verb", "secured", "scopes"])
        #expect(written["endpointConfigurations"]?.objectValue?.keys == ["production", "sandbox"])
        #expect(written["rateLimit"]?.objectValue?.keys == ["requestsPerUnit", "unit"])
        #expect(
            written["corsConfiguration"]?.objectValue?.keys.first == "corsConfigurationEnabled",
            "CORS keys in declaration order, not document order")
        let minimal = try DocumentParser().parse(Data(try load("valid-minimal.yaml").yaml().utf8))
        #expect(
            minimal.objectValue?.keys == [
                "name", "basePath", "version", "type", "defaultVersion", "subscriptionValidation", "endpointConfigurations",
                "operations",
            ])
    }

    @Test func yamlKeepsQuotedVersionAString() throws {
        let yaml = try load("valid-minimal.yaml").yaml()
        #expect(yaml.contains("\nversion: \"3.14\"\n"))
    }
}
