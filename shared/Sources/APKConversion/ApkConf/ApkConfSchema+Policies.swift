import APKModel
extension ApkConfSchema {
    static let url: Schema = .string(.init(minLength: 1, pattern: #"^(?i)https?://[^\s/?#]+[^\s]*$"#))

    private static func policy(_ name: String, _ parameters: [(String, Schema)], required: [String]) -> (String, Schema) {
        (
            name,
            .object(
                [
                    ("policyName", .string()), ("policyVersion", nonEmpty), ("policyId", nonEmpty),
                    ("parameters", .object(Schema.ObjectRule(parameters, required: required))),
                ],
                required: required.isEmpty ? [] : ["parameters"])
        )
    }

    static let headerPolicies: [(String, Schema)] = [
        policy("AddHeader", [("headerName", headerName), ("headerValue", .string())], required: ["headerName", "headerValue"]),
        policy("SetHeader", [("headerName", headerName), ("headerValue", .string())], required: ["headerName", "headerValue"]),
        policy("RemoveHeader", [("headerName", headerName)], required: ["headerName"]),
        policy(
            "Interceptor",
            [
                ("backendUrl", url), ("headersEnabled", .boolean), ("bodyEnabled", .boolean),
                ("trailersEnabled", .boolean), ("contextEnabled", .boolean), ("tlsSecretName", nonEmpty),
                ("tlsSecretKey", nonEmpty),
            ], required: ["backendUrl"]),
    ]

    static let requestOnlyPolicies: [(String, Schema)] = [
        policy(
            "BackendJwt",
            [
                ("encoding", .oneOfStrings(["Base64", "Base64url"])), ("signingAlgorithm", nonEmpty),
                ("header", headerName), ("tokenTTL", .integer(minimum: 1)),
                (
                    "customClaims",
                    .array(
                        of: .object(
                            [
                                ("claim", nonEmpty), ("value", .string()),
                                ("type", .oneOfStrings(["string", "int", "float", "bool", "long", "date"])),
                            ], required: ["claim", "value"]))
                ),
            ], required: []),
        policy("RequestMirror", [("urls", .array(of: url, minItems: 1))], required: ["urls"]),
        policy(
            "RequestRedirect", [("url", url), ("statusCode", .integer(minimum: 301, maximum: 302))], required: ["url"]),
        policy(
            "ModelBasedRoundRobin",
            [
                ("onQuotaExceedSuspendDuration", .integer(minimum: 0)),
                ("productionModels", .array(of: model, minItems: 1)),
                ("sandboxModels", .array(of: model)),
            ], required: ["onQuotaExceedSuspendDuration", "productionModels"]),
    ]

    static let model: Schema = .object(
        [("model", nonEmpty), ("endpoint", url), ("weight", .integer(minimum: 0))], required: ["model", "endpoint"])

    static let policies: Schema = .object([
        ("request", .array(of: .tagged(key: "policyName", cases: headerPolicies + requestOnlyPolicies))),
        ("response", .array(of: .tagged(key: "policyName", cases: headerPolicies))),
    ])
}
