package import APKModel
package import Foundation

/// Reads an apk-conf: parse (JSON or YAML) → schema validation → semantic rules → typed ``ApkConf``.
///
/// Every violation is collected before anything is decoded, so users fix their file in one round.
package struct ApkConfLoader: Sendable {
    package var parser: DocumentParser
    private let validator = SchemaValidator()

    package init(parser: DocumentParser = DocumentParser()) { self.parser = parser }

    /// Parses, validates and decodes; throws ``APKError`` 909029 (all violations), 909021 or 909026.
    package func load(_ data: Data) throws(APKError) -> ApkConf {
        let document: JSONValue
        do {
            document = try parser.parse(data)
        } catch {
            throw .unreadableApkConf(error)
        }
        return try load(document)
    }

    /// Validates and decodes an already-parsed document.
    package func load(_ document: JSONValue) throws(APKError) -> ApkConf {
        let issues = validator.validate(document, against: ApkConfSchema.root)
        guard issues.isEmpty else { throw .invalidApkConf(issues) }
        let conf: ApkConf
        do {
            conf = try JSONValueCoding.decode(ApkConf.self, from: document.integralNumbersAsIntegers())
        } catch {
            // Unreachable for schema-valid documents; reported as a violation rather than a crash.
            throw .invalidApkConf([ValidationIssue(pointer: "#", message: "unreadable apk-conf: \(error)")])
        }
        try Self.checkRules(conf)
        return conf
    }

    /// The rules a JSON schema cannot express (§3.2 steps 1–2, §4.1): at least one operation, not both API-level
    /// and operation-level rate limits, every operation reachable on some endpoint, well-formed REST operations.
    package static func checkRules(_ conf: ApkConf) throws(APKError) {
        guard !conf.operations.isEmpty else { throw .noOperations }
        var issues: [ValidationIssue] = []
        var seen: Set<String> = []
        let apiHasEndpoint = !(conf.endpointConfigurations?.production ?? []).isEmpty
            || !(conf.endpointConfigurations?.sandbox ?? []).isEmpty
        for (i, operation) in conf.operations.enumerated() {
            let pointer = "#/operations/\(i)"
            let opHasEndpoint = !(operation.endpointConfigurations?.production ?? []).isEmpty
                || !(operation.endpointConfigurations?.sandbox ?? []).isEmpty
            if !apiHasEndpoint, !opHasEndpoint {
                issues.append(
                    ValidationIssue(
                        pointer: "\(pointer)/endpointConfigurations",
                        message: "production/sandbox endpoint not available for \(operation.target)"))
            } else if operation.endpointConfigurations != nil, !opHasEndpoint {
                // Own endpointConfigurations replace the API's (as in the reference), so this operation would get
                // no route at all; the reference accepts it and drops the operation silently.
                issues.append(
                    ValidationIssue(
                        pointer: "\(pointer)/endpointConfigurations",
                        message: "the operation's own endpointConfigurations has no endpoint, so \(operation.target) "
                            + "would not be served; remove it to use the API's endpoints"))
            }
            switch conf.type {
            case .rest:
                if !ApkConfSchema.httpVerbs.contains(operation.verb) {
                    issues.append(
                        ValidationIssue(
                            pointer: "\(pointer)/verb",
                            message:
                                "\(operation.verb) is not a valid enum value (expected one of: \(ApkConfSchema.httpVerbs.joined(separator: ", ")))"
                        ))
                }
                if let problem = PathTemplate.problem(in: operation.target) {
                    issues.append(ValidationIssue(pointer: "\(pointer)/target", message: problem))
                }
            case .graphql:
                let verbs = ["QUERY", "MUTATION", "SUBSCRIPTION"]
                if !verbs.contains(operation.verb) {
                    issues.append(
                        ValidationIssue(
                            pointer: "\(pointer)/verb",
                            message: "\(operation.verb) is not a valid enum value (expected one of: \(verbs.joined(separator: ", ")))"))
                }
            case .grpc:
                break
            }
            let key = "\(operation.verb) \(operation.target)"
            if !seen.insert(key).inserted {
                issues.append(ValidationIssue(pointer: pointer, message: "duplicate operation \(key)"))
            }
        }
        guard issues.isEmpty else { throw .invalidApkConf(issues) }
        if conf.rateLimit != nil, conf.operations.contains(where: { $0.rateLimit != nil }) {
            throw .bothRateLimits
        }
    }
}

extension ApkConf {
    /// The document form, fields in declaration order, defaults filled in.
    package var jsonValue: JSONValue {
        // Encoding plain value types into a `JSONValue` cannot fail.
        (try? JSONValueCoding.encode(self)) ?? .null
    }

    /// YAML as the config and deployer services return it, in the reference's text form: starts with `---`, fields
    /// in declaration order, every string double-quoted.
    package func yaml() -> String { DocumentWriter.yaml(jsonValue, explicitStart: true, quoteStrings: true) }
}
