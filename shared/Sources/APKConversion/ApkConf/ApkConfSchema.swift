import APKModel
/// The apk-conf schema (contract §4), equivalent to APK 1.3's `apk-schema.json`: closed objects at every level,
/// strict types, lengths, patterns, enumerations and tagged `oneOf` blocks for authentication and policies.
package enum ApkConfSchema {
    /// Characters the reference forbids in API names (§4.1).
    package static let namePattern = #"^[^~!@#;:%^*()+={}|\\<>"',&$\[\]/]*$"#
    /// Base paths: a leading `/`, then the characters a Kubernetes API CR accepts (plus `{}` for templated paths).
    package static let basePathPattern = #"^/[a-zA-Z0-9~/_.{}\-]*$"#
    /// Versions: no specials, whitespace or `/`.
    package static let versionPattern = #"^[^~!@#;:%^*()+={}|\\<>"',&$\[\]/\s]+$"#
    /// HTTP methods accepted as REST verbs.
    package static let httpVerbs = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]

    package static let root: Schema = .object(
        [
            ("id", .string(.init(minLength: 1, maxLength: 253, pattern: #"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"#))),
            ("name", .string(.init(minLength: 1, maxLength: 60, pattern: namePattern))),
            ("basePath", .string(.init(minLength: 1, maxLength: 256, pattern: basePathPattern))),
            ("version", .string(.init(minLength: 1, maxLength: 30, pattern: versionPattern))),
            ("type", .oneOfStrings(ApkConf.APIType.allCases.map(\.rawValue))),
            ("definitionPath", .string(.init(minLength: 1, maxLength: 256, pattern: #"^/[^\s]*$"#))),
            ("defaultVersion", .boolean),
            ("subscriptionValidation", .boolean),
            ("environment", .string(.init(minLength: 1, maxLength: 60, pattern: #"^[a-zA-Z0-9]([a-zA-Z0-9_-]*)$"#))),
            ("endpointConfigurations", endpointConfigurations),
            ("aiProvider", .object([("name", nonEmpty), ("apiVersion", nonEmpty)], required: ["name", "apiVersion"])),
            ("operations", .array(of: operation)),
            ("apiPolicies", policies),
            ("rateLimit", rateLimit),
            ("authentication", .array(of: authentication)),
            ("additionalProperties", .array(of: .object([("name", nonEmpty), ("value", .string())], required: ["name", "value"]))),
            ("corsConfiguration", cors),
        ],
        required: ["name", "basePath", "version", "type", "operations"])

    static let nonEmpty: Schema = .string(.init(minLength: 1))
    static let unit: Schema = .oneOfStrings(ApkConf.RateLimit.Unit.allCases.map(\.rawValue))

    static let rateLimit: Schema = .object(
        [("requestsPerUnit", .integer(minimum: 1)), ("unit", unit)], required: ["requestsPerUnit", "unit"])

    static let operation: Schema = .object(
        [
            ("target", .string(.init(minLength: 1, maxLength: 1024, pattern: #"^[^\s]+$"#))),
            ("verb", .string(.init(minLength: 1, maxLength: 64))),
            ("secured", .boolean),
            ("scopes", .array(of: .string(.init(minLength: 1, maxLength: 256, pattern: #"^[^\s]+$"#)))),
            ("endpointConfigurations", endpointConfigurations),
            ("operationPolicies", policies),
            ("rateLimit", rateLimit),
        ],
        required: ["target", "verb"])

    // MARK: endpoints

    static let endpointConfigurations: Schema = .object([
        ("production", .array(of: endpointConfiguration, minItems: 1)),
        ("sandbox", .array(of: endpointConfiguration, minItems: 1)),
    ])

    static let k8sService: Schema = .object(
        [
            ("name", .string(.init(minLength: 1, maxLength: 253, pattern: #"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"#))),
            ("namespace", .string(.init(minLength: 1, maxLength: 63, pattern: #"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"#))),
            ("port", .integer(minimum: 1, maximum: 65535)),
            ("protocol", .oneOfStrings(["http", "https", "ws", "wss"])),
        ],
        required: ["name", "port"])

    static let endpointConfiguration: Schema = .object(
        [
            ("endpoint", .oneOf([.string(.init(minLength: 1, pattern: #"^(?i)(https?|wss?)://[^\s/?#]+[^\s]*$"#)), k8sService])),
            ("endpointSecurity", .object([("enabled", .boolean), ("securityType", securityType)])),
            ("certificate", .object([("secretName", nonEmpty), ("secretKey", nonEmpty)], required: ["secretName", "secretKey"])),
            ("resiliency", resiliency),
            ("aiRatelimit", aiRatelimit),
            ("weight", .integer(minimum: 0, maximum: 1_000_000)),
        ],
        required: ["endpoint"])

    static let securityType: Schema = .oneOf([
        .object(
            [("secretName", nonEmpty), ("userNameKey", nonEmpty), ("passwordKey", nonEmpty)],
            required: ["secretName", "userNameKey", "passwordKey"]),
        .object(
            [
                ("secretName", nonEmpty), ("in", .oneOfStrings(["Header", "Query"])), ("apiKeyNameKey", nonEmpty),
                ("apiKeyValueKey", nonEmpty),
            ],
            required: ["secretName", "in", "apiKeyNameKey", "apiKeyValueKey"]),
    ])

    static let resiliency: Schema = .object([
        (
            "timeout",
            .object([
                ("downstreamRequestIdleTimeout", .integer(minimum: 0)), ("upstreamResponseTimeout", .integer(minimum: 0)),
            ])
        ),
        (
            "retryPolicy",
            .object([
                ("count", .integer(minimum: 0)), ("baseIntervalMillis", .integer(minimum: 0)),
                ("statusCodes", .array(of: .integer(minimum: 100, maximum: 599))),
            ])
        ),
        (
            "circuitBreaker",
            .object([
                ("maxConnectionPools", .integer(minimum: 1)), ("maxConnections", .integer(minimum: 0)),
                ("maxPendingRequests", .integer(minimum: 0)), ("maxRequests", .integer(minimum: 0)),
                ("maxRetries", .integer(minimum: 0)),
            ])
        ),
    ])

    static let aiRatelimit: Schema = .object(
        [
            ("enabled", .boolean),
            (
                "token",
                .object(
                    [
                        ("promptLimit", .integer(minimum: 0)), ("completionLimit", .integer(minimum: 0)),
                        ("totalLimit", .integer(minimum: 0)), ("unit", unit),
                    ], required: ["promptLimit", "completionLimit", "totalLimit", "unit"])
            ),
            ("request", .object([("requestLimit", .integer(minimum: 0)), ("unit", unit)], required: ["requestLimit", "unit"])),
        ],
        required: ["token", "request"])

    // MARK: authentication

    static let requiredMode: Schema = .oneOfStrings(["mandatory", "optional"])
    static let headerName: Schema = .string(.init(minLength: 1, maxLength: 256, pattern: #"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"#))

    static let tokenAuthFields: [(String, Schema)] = [
        ("authType", .string()), ("required", requiredMode), ("enabled", .boolean), ("sendTokenToUpstream", .boolean),
        ("headerName", headerName), ("headerEnable", .boolean), ("queryParamName", nonEmpty),
        ("queryParamEnable", .boolean),
    ]

    static let authentication: Schema = .tagged(
        key: "authType",
        cases: [
            ("OAuth2", .object(tokenAuthFields)),
            ("JWT", .object(tokenAuthFields + [("audience", .array(of: nonEmpty))])),
            ("APIKey", .object(tokenAuthFields)),
            (
                "mTLS",
                .object([
                    ("authType", .string()), ("required", requiredMode), ("enabled", .boolean),
                    (
                        "certificates",
                        .array(of: .object([("name", nonEmpty), ("key", nonEmpty)], required: ["name", "key"]))
                    ),
                ])
            ),
        ])

    // MARK: CORS

    static let cors: Schema = .object([
        ("corsConfigurationEnabled", .boolean),
        ("accessControlAllowOrigins", .array(of: nonEmpty)),
        ("accessControlAllowCredentials", .boolean),
        ("accessControlAllowHeaders", .array(of: nonEmpty)),
        ("accessControlAllowMethods", .array(of: nonEmpty)),
        ("accessControlAllowMaxAge", .integer(minimum: 0)),
        ("accessControlExposeHeaders", .array(of: nonEmpty)),
    ])
}
