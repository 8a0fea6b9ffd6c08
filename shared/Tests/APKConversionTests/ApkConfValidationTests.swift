import APKModel
import APKTestSupport
import Foundation
import Testing
import APKConversion

/// One edit of a sample apk-conf: the value at a pointer (`/a/0/b`) is set, or removed when `value` is nil.
struct ConfEdit: Sendable {
    var pointer: String
    var value: JSONValue?

    static func set(_ pointer: String, _ value: JSONValue) -> ConfEdit { ConfEdit(pointer: pointer, value: value) }
    static func remove(_ pointer: String) -> ConfEdit { ConfEdit(pointer: pointer, value: nil) }
}

/// The hand-written apk-conf fixtures as documents, and edited copies of them.
enum ConfSamples {
    static func document(_ fixture: String) throws -> JSONValue {
        try DocumentParser().parse(try Fixtures.data("apk-conf/\(fixture)"))
    }

    static func edited(_ edits: [ConfEdit], in fixture: String = "valid-full.yaml") throws -> JSONValue {
        var document = try document(fixture)
        for edit in edits {
            let path = edit.pointer.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            document = applying(edit.value, at: path[...], to: document)
        }
        return document
    }

    /// The issues of a 909029 for `document`, or an empty list when it loads.
    static func issues(_ document: JSONValue) -> [ValidationIssue] {
        do {
            _ = try ApkConfLoader().load(document)
            return []
        } catch {
            return error.code == 909029 ? error.issues : [ValidationIssue(pointer: "?", message: "\(error)")]
        }
    }

    private static func applying(_ value: JSONValue?, at path: ArraySlice<String>, to node: JSONValue) -> JSONValue {
        guard let head = path.first else { return value ?? .null }
        let rest = path.dropFirst()
        switch node {
        case .array(var elements):
            guard let index = Int(head), index <= elements.count else { return node }
            if index == elements.count {
                if let value { elements.append(applying(value, at: rest, to: container(for: rest))) }
            } else if rest.isEmpty, value == nil {
                elements.remove(at: index)
            } else {
                elements[index] = applying(value, at: rest, to: elements[index])
            }
            return .array(elements)
        case .object(var object):
            object[head] = rest.isEmpty ? value : applying(value, at: rest, to: object[head] ?? container(for: rest))
            return .object(object)
        default:
            return applying(value, at: path, to: container(for: path))
        }
    }

    /// An empty array when the next pointer segment is an index, an empty object otherwise.
    private static func container(for path: ArraySlice<String>) -> JSONValue {
        path.first.flatMap { Int($0) } != nil ? .array([]) : .object(JSONObject())
    }
}

/// One schema rule: an edit of `valid-full.yaml` and the exact violations it must produce.
struct SchemaCase: Sendable, CustomTestStringConvertible {
    var label: String
    var edits: [ConfEdit]
    var expected: [ValidationIssue]
    var testDescription: String { label }

    init(_ label: String, _ edits: [ConfEdit], _ pointer: String, _ message: String) {
        self.init(label, edits, [ValidationIssue(pointer: pointer, message: message)])
    }

    init(_ label: String, _ edits: [ConfEdit], _ expected: [ValidationIssue]) {
        self.label = label
        self.edits = edits
        self.expected = expected
    }
}

@Suite("apk-conf schema: one violation per rule, exact pointer and message")
struct ApkConfValidationTests {
    static let headerPattern = #"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"#
    static let endpointPattern = #"^(?i)(https?|wss?)://[^\s/?#]+[^\s]*$"#
    static let policyURLPattern = #"^(?i)https?://[^\s/?#]+[^\s]*$"#
    static let requestPolicies =
        "AddHeader, SetHeader, RemoveHeader, Interceptor, BackendJwt, RequestMirror, RequestRedirect, ModelBasedRoundRobin"

    @Test func fixturesAreValid() throws {
        #expect(ConfSamples.issues(try ConfSamples.document("valid-full.yaml")) == [])
        #expect(ConfSamples.issues(try ConfSamples.document("valid-minimal.yaml")) == [])
        #expect(ConfSamples.issues(try ConfSamples.document("valid-full.json")) == [])
    }

    static let unknownKeys: [SchemaCase] = [
        SchemaCase("top level", [.set("/owner", "hr")], "#", "extraneous key [owner] is not permitted"),
        SchemaCase(
            "corsConfiguration", [.set("/corsConfiguration/allowOrigins", ["*"])], "#/corsConfiguration",
            "extraneous key [allowOrigins] is not permitted"),
        SchemaCase(
            "operation", [.set("/operations/1/method", "POST")], "#/operations/1",
            "extraneous key [method] is not permitted"),
        SchemaCase(
            "endpoint configuration", [.set("/endpointConfigurations/production/1/timeout", 5)],
            "#/endpointConfigurations/production/1", "extraneous key [timeout] is not permitted"),
        SchemaCase(
            "authentication block", [.set("/authentication/0/issuer", "idp")], "#/authentication/0",
            "extraneous key [issuer] is not permitted"),
        SchemaCase(
            "policy parameters", [.set("/apiPolicies/request/0/parameters/headerValues", ["a"])],
            "#/apiPolicies/request/0/parameters", "extraneous key [headerValues] is not permitted"),
        SchemaCase(
            "K8s service endpoint", [.set("/endpointConfigurations/sandbox/0/endpoint/host", "x")],
            "#/endpointConfigurations/sandbox/0/endpoint", "extraneous key [host] is not permitted"),
    ]

    @Test(arguments: unknownKeys) func unknownKeyIsRejected(_ rule: SchemaCase) throws {
        #expect(ConfSamples.issues(try ConfSamples.edited(rule.edits)) == rule.expected)
    }

    static let strictTypes: [SchemaCase] = [
        SchemaCase(
            "string where a boolean is expected", [.set("/corsConfiguration/corsConfigurationEnabled", "true")],
            "#/corsConfiguration/corsConfigurationEnabled", "expected type: Boolean, found: String"),
        SchemaCase(
            "yes where a boolean is expected", [.set("/operations/0/secured", "yes")], "#/operations/0/secured",
            "expected type: Boolean, found: String"),
        SchemaCase(
            "integer as a string", [.set("/rateLimit/requestsPerUnit", "100")], "#/rateLimit/requestsPerUnit",
            "expected type: Integer, found: String"),
        SchemaCase(
            "fraction where an integer is expected", [.set("/corsConfiguration/accessControlAllowMaxAge", .double(1.5))],
            "#/corsConfiguration/accessControlAllowMaxAge", "expected type: Integer, found: Number"),
        SchemaCase(
            "number where a string is expected", [.set("/version", .double(3.14))], "#/version",
            "expected type: String, found: Number"),
        SchemaCase("null where a string is expected", [.set("/name", .null)], "#/name", "expected type: String, found: Null"),
        SchemaCase(
            "object where an array is expected", [.set("/operations", ["target": "/employee", "verb": "GET"])],
            "#/operations", "expected type: JSONArray, found: JSONObject"),
        SchemaCase(
            "array where an object is expected", [.set("/corsConfiguration", [])], "#/corsConfiguration",
            "expected type: JSONObject, found: JSONArray"),
        SchemaCase(
            "string where a string array is expected", [.set("/operations/0/scopes", "employees:read")],
            "#/operations/0/scopes", "expected type: JSONArray, found: String"),
        SchemaCase(
            "integer inside a string array", [.set("/corsConfiguration/accessControlAllowMethods/1", 5)],
            "#/corsConfiguration/accessControlAllowMethods/1", "expected type: String, found: Integer"),
    ]

    @Test(arguments: strictTypes) func typesAreStrict(_ rule: SchemaCase) throws {
        #expect(ConfSamples.issues(try ConfSamples.edited(rule.edits)) == rule.expected)
    }

    static let requiredKeys: [SchemaCase] =
        ["name", "basePath", "version", "type", "operations"].map {
            SchemaCase("top-level \($0)", [.remove("/\($0)")], "#", "required key [\($0)] not found")
        } + ["target", "verb"].map {
            SchemaCase("operation \($0)", [.remove("/operations/2/\($0)")], "#/operations/2", "required key [\($0)] not found")
        } + ["requestsPerUnit", "unit"].map {
            SchemaCase("rateLimit \($0)", [.remove("/rateLimit/\($0)")], "#/rateLimit", "required key [\($0)] not found")
        } + ["name", "apiVersion"].map {
            SchemaCase("aiProvider \($0)", [.remove("/aiProvider/\($0)")], "#/aiProvider", "required key [\($0)] not found")
        } + [
            SchemaCase(
                "endpoint", [.remove("/endpointConfigurations/production/1/endpoint")],
                "#/endpointConfigurations/production/1", "required key [endpoint] not found"),
            SchemaCase(
                "policy parameter headerName", [.remove("/apiPolicies/request/0/parameters/headerName")],
                "#/apiPolicies/request/0/parameters", "required key [headerName] not found"),
        ]

    @Test(arguments: requiredKeys) func requiredKeyIsReported(_ rule: SchemaCase) throws {
        #expect(ConfSamples.issues(try ConfSamples.edited(rule.edits)) == rule.expected)
    }

    static let lengths: [SchemaCase] = [
        SchemaCase(
            "name of 61 characters", [.set("/name", .string(String(repeating: "a", count: 61)))], "#/name",
            "expected maxLength: 60, actual: 61"),
        SchemaCase("empty name", [.set("/name", "")], "#/name", "expected minLength: 1, actual: 0"),
        SchemaCase(
            "version of 31 characters", [.set("/version", .string(String(repeating: "1", count: 31)))], "#/version",
            "expected maxLength: 30, actual: 31"),
        SchemaCase(
            "basePath of 257 characters", [.set("/basePath", .string("/" + String(repeating: "b", count: 256)))],
            "#/basePath", "expected maxLength: 256, actual: 257"),
    ]

    @Test(arguments: lengths) func lengthsAreBounded(_ rule: SchemaCase) throws {
        #expect(ConfSamples.issues(try ConfSamples.edited(rule.edits)) == rule.expected)
    }

    @Test func lengthsAtTheLimitAreAccepted() throws {
        let document = try ConfSamples.edited([
            .set("/name", .string(String(repeating: "a", count: 60))),
            .set("/version", .string(String(repeating: "1", count: 30))),
            .set("/basePath", .string("/" + String(repeating: "b", count: 255))),
        ])
        #expect(ConfSamples.issues(document) == [])
    }

    static let patterns: [SchemaCase] = [
        SchemaCase(
            "name with $", [.set("/name", "Employee$API")], "#/name",
            "string [Employee$API] does not match pattern \(ApkConfSchema.namePattern)"),
        SchemaCase(
            "basePath without a leading /", [.set("/basePath", "employees")], "#/basePath",
            "string [employees] does not match pattern \(ApkConfSchema.basePathPattern)"),
        SchemaCase(
            "version with a space", [.set("/version", "3 14")], "#/version",
            "string [3 14] does not match pattern \(ApkConfSchema.versionPattern)"),
        SchemaCase(
            "endpoint URL with an unsupported scheme", [.set("/endpointConfigurations/production/1/endpoint", "ftp://backend")],
            "#/endpointConfigurations/production/1/endpoint", "string [ftp://backend] does not match pattern \(endpointPattern)"),
    ]

    @Test(arguments: patterns) func patternsAreEnforced(_ rule: SchemaCase) throws {
        #expect(ConfSamples.issues(try ConfSamples.edited(rule.edits)) == rule.expected)
    }

    static let enums: [SchemaCase] = [
        SchemaCase("API type SOAP", [.set("/type", "SOAP")], "#/type", "SOAP is not a valid enum value (expected one of: REST, GRAPHQL, GRPC)"),
        SchemaCase(
            "rateLimit unit Week", [.set("/rateLimit/unit", "Week")], "#/rateLimit/unit",
            "Week is not a valid enum value (expected one of: Minute, Hour, Day)"),
        SchemaCase(
            "authType Basic", [.set("/authentication/1/authType", "Basic")], "#/authentication/1/authType",
            "Basic is not a valid enum value (expected one of: OAuth2, JWT, APIKey, mTLS)"),
        SchemaCase(
            "policyName Foo", [.set("/apiPolicies/request/1/policyName", "Foo")], "#/apiPolicies/request/1/policyName",
            "Foo is not a valid enum value (expected one of: \(requestPolicies))"),
        SchemaCase(
            "required: always", [.set("/authentication/0/required", "always")], "#/authentication/0/required",
            "always is not a valid enum value (expected one of: mandatory, optional)"),
    ]

    @Test(arguments: enums) func enumerationsAreClosed(_ rule: SchemaCase) throws {
        #expect(ConfSamples.issues(try ConfSamples.edited(rule.edits)) == rule.expected)
    }

    static let numericBounds: [SchemaCase] = [
        SchemaCase(
            "requestsPerUnit 0", [.set("/rateLimit/requestsPerUnit", 0)], "#/rateLimit/requestsPerUnit",
            "0 is not greater or equal to 1"),
        SchemaCase(
            "service port above 65535", [.set("/endpointConfigurations/sandbox/0/endpoint/port", 70000)],
            "#/endpointConfigurations/sandbox/0/endpoint/port", "70000 is not less or equal to 65535"),
        SchemaCase(
            "empty production list", [.set("/endpointConfigurations/production", [])], "#/endpointConfigurations/production",
            "expected minimum item count: 1, found: 0"),
    ]

    @Test(arguments: numericBounds) func numbersAndCountsAreBounded(_ rule: SchemaCase) throws {
        #expect(ConfSamples.issues(try ConfSamples.edited(rule.edits)) == rule.expected)
    }

    static let oneOfs: [SchemaCase] = [
        SchemaCase(
            "endpoint as a number", [.set("/endpointConfigurations/production/1/endpoint", 42)],
            "#/endpointConfigurations/production/1/endpoint", "expected type: String or JSONObject, found: Integer"),
        SchemaCase(
            "K8s service endpoint without port", [.remove("/endpointConfigurations/sandbox/0/endpoint/port")],
            "#/endpointConfigurations/sandbox/0/endpoint", "required key [port] not found"),
        SchemaCase(
            "securityType of neither shape reports the closer one (APIKey)",
            [
                .set(
                    "/endpointConfigurations/production/0/endpointSecurity/securityType",
                    ["secretName": "backend-creds", "in": "Header"])
            ],
            ["apiKeyNameKey", "apiKeyValueKey"].map {
                ValidationIssue(
                    pointer: "#/endpointConfigurations/production/0/endpointSecurity/securityType",
                    message: "required key [\($0)] not found")
            }),
        SchemaCase(
            "securityType of neither shape reports the closer one (Basic)",
            [.set("/endpointConfigurations/production/0/endpointSecurity/securityType", ["secretName": "backend-creds"])],
            ["userNameKey", "passwordKey"].map {
                ValidationIssue(
                    pointer: "#/endpointConfigurations/production/0/endpointSecurity/securityType",
                    message: "required key [\($0)] not found")
            }),
    ]

    @Test(arguments: oneOfs) func oneOfReportsTheClosestAlternative(_ rule: SchemaCase) throws {
        #expect(ConfSamples.issues(try ConfSamples.edited(rule.edits)) == rule.expected)
    }

    static let taggedUnions: [SchemaCase] = [
        SchemaCase(
            "APIKey headerName with a space", [.set("/authentication/1/headerName", "X API Key")], "#/authentication/1/headerName",
            "string [X API Key] does not match pattern \(headerPattern)"),
        SchemaCase(
            "APIKey enabled as a string", [.set("/authentication/1/enabled", "yes")], "#/authentication/1/enabled",
            "expected type: Boolean, found: String"),
        SchemaCase(
            "audience is JWT-only", [.set("/authentication/0/audience", ["api"])], "#/authentication/0",
            "extraneous key [audience] is not permitted"),
        SchemaCase(
            "JWT audience as a string",
            [.set("/authentication/0", ["authType": "JWT", "audience": "api"])], "#/authentication/0/audience",
            "expected type: JSONArray, found: String"),
        SchemaCase(
            "authentication block without authType", [.set("/authentication/1", ["headerName": "X-Key"])],
            "#/authentication/1", "required key [authType] not found"),
        SchemaCase(
            "Interceptor backendUrl that is not a URL", [.set("/apiPolicies/request/1/parameters/backendUrl", "interceptor")],
            "#/apiPolicies/request/1/parameters/backendUrl", "string [interceptor] does not match pattern \(policyURLPattern)"),
        SchemaCase(
            "operation policy parameter type", [.set("/operations/2/operationPolicies/request/0/parameters/headerValue", 5)],
            "#/operations/2/operationPolicies/request/0/parameters/headerValue", "expected type: String, found: Integer"),
        SchemaCase(
            "RequestMirror as a response policy",
            [.set("/apiPolicies/response/0", ["policyName": "RequestMirror", "parameters": ["urls": ["http://mirror"]]])],
            "#/apiPolicies/response/0/policyName",
            "RequestMirror is not a valid enum value (expected one of: AddHeader, SetHeader, RemoveHeader, Interceptor)"),
        SchemaCase(
            "RequestMirror as an operation response policy",
            [.set("/operations/0/operationPolicies/response/0", ["policyName": "RequestMirror", "parameters": ["urls": ["http://m"]]])],
            "#/operations/0/operationPolicies/response/0/policyName",
            "RequestMirror is not a valid enum value (expected one of: AddHeader, SetHeader, RemoveHeader, Interceptor)"),
    ]

    @Test(arguments: taggedUnions) func taggedUnionsReportInnerViolations(_ rule: SchemaCase) throws {
        #expect(ConfSamples.issues(try ConfSamples.edited(rule.edits)) == rule.expected)
    }

    @Test func requestMirrorIsAcceptedAsARequestPolicy() throws {
        let document = try ConfSamples.edited([
            .set("/apiPolicies/request/2", ["policyName": "RequestMirror", "parameters": ["urls": ["http://mirror:80"]]])
        ])
        #expect(ConfSamples.issues(document) == [])
    }

    @Test func everyViolationIsReportedInDocumentOrder() throws {
        let expected: [(String, String)] = [
            ("#/name", "string [Employee$API] does not match pattern \(ApkConfSchema.namePattern)"),
            ("#/basePath", "string [employees] does not match pattern \(ApkConfSchema.basePathPattern)"),
            ("#/type", "SOAP is not a valid enum value (expected one of: REST, GRAPHQL, GRPC)"),
            ("#/operations/0/secured", "expected type: Boolean, found: String"),
            ("#/operations/0", "extraneous key [method] is not permitted"),
            ("#/operations/1", "required key [target] not found"),
            ("#/rateLimit/requestsPerUnit", "0 is not greater or equal to 1"),
            ("#/rateLimit/unit", "Week is not a valid enum value (expected one of: Minute, Hour, Day)"),
            ("#/corsConfiguration/corsConfigurationEnabled", "expected type: Boolean, found: String"),
        ]
        let data = try Fixtures.data("apk-conf/invalid-many-violations.yaml")
        let error = try #require(throws: APKError.self) { try ApkConfLoader().load(data) }
        #expect(error.code == 909029)
        #expect(error.status == 400)
        #expect(error.issues == expected.map { ValidationIssue(pointer: $0.0, message: $0.1) })
    }
}
