/// APK's error: a stable numeric code (the contract's codes, §2.4), an HTTP status and the body fields.
///
/// It lives in `APKModel` because the model itself raises contract codes (909029, 909021, 909026); `APKRuntime`
/// renders it as an HTTP response. The same code appears in the body, in logs (`error.code`) and in service READMEs.
package struct APKError: Error, Sendable, Hashable, CustomStringConvertible {
    package var code: Int
    package var status: Int
    package var message: String
    package var detail: String
    /// Ordered `moreInfo` entries of the APK body.
    package var moreInfo: [(key: String, value: String)]
    /// Every individual violation, for machine consumption (909029).
    package var issues: [ValidationIssue]
    /// The 90091-style body (`{code, message, error: [...]}`) used by the config service for definition problems.
    package var definitionProblems: [DefinitionProblem]?

    package init(
        code: Int, status: Int, message: String, detail: String? = nil, moreInfo: [(String, String)] = [],
        issues: [ValidationIssue] = [], definitionProblems: [DefinitionProblem]? = nil
    ) {
        self.code = code
        self.status = status
        self.message = message
        self.detail = detail ?? message
        self.moreInfo = moreInfo.map { (key: $0.0, value: $0.1) }
        self.issues = issues
        self.definitionProblems = definitionProblems
    }

    package var description: String { "APK error \(code) (HTTP \(status)): \(detail)" }

    package static func == (lhs: APKError, rhs: APKError) -> Bool {
        lhs.code == rhs.code && lhs.status == rhs.status && lhs.message == rhs.message && lhs.detail == rhs.detail
            && lhs.moreInfo.map(\.key) == rhs.moreInfo.map(\.key)
            && lhs.moreInfo.map(\.value) == rhs.moreInfo.map(\.value) && lhs.issues == rhs.issues
            && lhs.definitionProblems == rhs.definitionProblems
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(detail)
    }
}

/// One problem found in an API definition (OpenAPI), in the `error[]` entries of a 400 90091 body.
package struct DefinitionProblem: Sendable, Hashable, Codable {
    package var code: String
    package var message: String
    package var description: String

    package init(code: String = "90092", message: String, description: String) {
        self.code = code
        self.message = message
        self.description = description
    }
}

// MARK: - Catalogue (contract §2.4; one constructor per code)

extension APKError {
    /// 909029 / 400: the apk-conf violates the schema; `moreInfo` maps each message to every pointer it applies to.
    package static func invalidApkConf(_ issues: [ValidationIssue]) -> APKError {
        var grouped: [(String, [String])] = []
        for issue in issues {
            if let i = grouped.firstIndex(where: { $0.0 == issue.message }) {
                grouped[i].1.append(issue.description)
            } else {
                grouped.append((issue.message, [issue.description]))
            }
        }
        return APKError(
            code: 909029, status: 400, message: "Invalid apk-conf provided",
            detail: "Invalid apk-conf provided: \(issues.count) violation\(issues.count == 1 ? "" : "s")",
            moreInfo: grouped.map { ($0.0, $0.1.joined(separator: "; ")) }, issues: issues)
    }

    /// 909021 / 406: no operations.
    package static let noOperations = APKError(
        code: 909021, status: 406, message: "Atleast one operation need to specified",
        detail: "An API needs at least one operation")

    /// 909026 / 406: API-level and operation-level rate limits together.
    package static let bothRateLimits = APKError(
        code: 909026, status: 406,
        message: "Presence of both resource level and API level rate limits is not allowed")

    /// 909022 / 500.
    package static func internalError(_ detail: String = "Internal server error") -> APKError {
        APKError(code: 909022, status: 500, message: "Internal server error", detail: detail)
    }

    /// 909052 / 500: CR generation failed.
    package static func generationFailed(_ detail: String) -> APKError {
        APKError(code: 909052, status: 500, message: "Error while generating k8s artifact", detail: detail)
    }

    /// 90091 / 400: the API definition is not a usable OpenAPI / Swagger document.
    package static func invalidDefinition(_ problems: [DefinitionProblem]) -> APKError {
        APKError(
            code: 90091, status: 400, message: "Invalid API Definition",
            detail: problems.first.map { "Invalid API Definition: \($0.description)" } ?? "Invalid API Definition",
            definitionProblems: problems)
    }

    /// 90091 / 400: the `apiType` parameter is not REST, GRAPHQL or GRPC.
    package static let invalidAPIType = APKError(
        code: 90091, status: 400, message: "Invalid API Type", definitionProblems: [])

    /// 909006 / 406: a valid API type this build cannot convert (GraphQL and gRPC definitions).
    package static func unsupportedAPIType(_ type: String) -> APKError {
        APKError(
            code: 909006, status: 406, message: "Unsupported API type",
            detail: "API type \(type) is not supported for this operation yet")
    }
}

// MARK: - Codes of our own (not in the reference; documented in services/config/README.md)

extension APKError {
    /// 909060 / 413: a request body or uploaded document is larger than the configured limit.
    package static func payloadTooLarge(limit: Int) -> APKError {
        APKError(
            code: 909060, status: 413, message: "Payload too large",
            detail: "The request is larger than the limit of \(limit) bytes")
    }

    /// 909066 / 406: the apk-conf is valid but asks for something the gateway does not serve yet; each issue names
    /// one feature and where it is (deploy refuses rather than serve the API other than as configured).
    package static func notServedYet(_ issues: [ValidationIssue]) -> APKError {
        APKError(
            code: 909066, status: 406, message: "Not supported by the gateway yet",
            detail: "The gateway cannot serve this apk-conf as configured: "
                + issues.map(\.message).joined(separator: "; "),
            moreInfo: issues.map { ($0.pointer, $0.message) }, issues: issues)
    }
}
