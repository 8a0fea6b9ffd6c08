package import APKModel
import Foundation
import Synchronization

/// Checks a ``JSONValue`` against a ``Schema`` and returns **every** violation, in document order.
package struct SchemaValidator: Sendable {
    private let patterns: PatternCache

    package init() { patterns = PatternCache() }

    package func validate(_ value: JSONValue, against schema: Schema) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        check(value, schema, pointer: "#", into: &issues)
        return issues
    }

    private func check(_ value: JSONValue, _ schema: Schema, pointer: String, into issues: inout [ValidationIssue]) {
        func report(_ message: String) { issues.append(ValidationIssue(pointer: pointer, message: message)) }
        func wrongType() {
            report("expected type: \(schema.typeNames.joined(separator: " or ")), found: \(value.typeName)")
        }

        switch schema {
        case .any:
            return
        case .boolean:
            if value.boolValue == nil { wrongType() }
        case .integer(let minimum, let maximum):
            let number: Int
            switch value {
            case .int(let i): number = i
            case .double(let d) where d == d.rounded() && abs(d) < 9e15: number = Int(d)
            default: return wrongType()
            }
            if let minimum, number < minimum { report("\(number) is not greater or equal to \(minimum)") }
            if let maximum, number > maximum { report("\(number) is not less or equal to \(maximum)") }
        case .number(let minimum):
            let number: Double
            switch value {
            case .int(let i): number = Double(i)
            case .double(let d): number = d
            default: return wrongType()
            }
            if let minimum, number < minimum { report("\(number) is not greater or equal to \(minimum)") }
        case .string(let rule):
            guard let string = value.stringValue else { return wrongType() }
            let length = string.count
            if let allowed = rule.allowed, !allowed.contains(string) {
                report("\(string) is not a valid enum value (expected one of: \(allowed.joined(separator: ", ")))")
            }
            if let minLength = rule.minLength, length < minLength {
                report("expected minLength: \(minLength), actual: \(length)")
            }
            if let maxLength = rule.maxLength, length > maxLength {
                report("expected maxLength: \(maxLength), actual: \(length)")
            }
            if let pattern = rule.pattern, !patterns.matches(string, pattern) {
                report("string [\(string)] does not match pattern \(pattern)")
            }
        case .array(let items, let minItems, let maxItems):
            guard let elements = value.arrayValue else { return wrongType() }
            if let minItems, elements.count < minItems {
                report("expected minimum item count: \(minItems), found: \(elements.count)")
            }
            if let maxItems, elements.count > maxItems {
                report("expected maximum item count: \(maxItems), found: \(elements.count)")
            }
            for (i, element) in elements.enumerated() {
                check(element, items, pointer: "\(pointer)/\(i)", into: &issues)
            }
        case .object(let rule):
            guard let object = value.objectValue else { return wrongType() }
            for name in rule.required where object[name] == nil {
                report("required key [\(name)] not found")
            }
            for (key, member) in object {
                let childPointer = "\(pointer)/\(Self.escape(key))"
                if let propertySchema = rule.schema(for: key) {
                    check(member, propertySchema, pointer: childPointer, into: &issues)
                } else if let additional = rule.additional {
                    check(member, additional, pointer: childPointer, into: &issues)
                } else {
                    report("extraneous key [\(key)] is not permitted")
                }
            }
        case .tagged(let key, let cases):
            guard let object = value.objectValue else { return wrongType() }
            guard let tagValue = object[key] else { return report("required key [\(key)] not found") }
            guard let tag = tagValue.stringValue else {
                issues.append(
                    ValidationIssue(
                        pointer: "\(pointer)/\(Self.escape(key))",
                        message: "expected type: String, found: \(tagValue.typeName)"))
                return
            }
            guard let selected = cases.first(where: { $0.tag == tag }) else {
                issues.append(
                    ValidationIssue(
                        pointer: "\(pointer)/\(Self.escape(key))",
                        message:
                            "\(tag) is not a valid enum value (expected one of: \(cases.map(\.tag).joined(separator: ", ")))"
                    ))
                return
            }
            check(value, selected.schema, pointer: pointer, into: &issues)
        case .oneOf(let alternatives):
            var best: [ValidationIssue]?
            var matches = 0
            for alternative in alternatives {
                var local: [ValidationIssue] = []
                check(value, alternative, pointer: pointer, into: &local)
                if local.isEmpty {
                    matches += 1
                } else if Self.typeMatches(value, alternative), best.map({ local.count < $0.count }) ?? true {
                    best = local
                }
            }
            if matches == 1 { return }
            if matches > 1 { return report("#: \(matches) subschemas matched instead of one") }
            if let best { issues.append(contentsOf: best) } else { wrongType() }
        }
    }

    private static func typeMatches(_ value: JSONValue, _ schema: Schema) -> Bool {
        switch (value, schema) {
        case (_, .any), (.string, .string), (.bool, .boolean), (.int, .integer), (.int, .number), (.double, .number),
            (.array, .array), (.object, .object), (.object, .tagged):
            true
        case (_, .oneOf(let alternatives)): alternatives.contains { typeMatches(value, $0) }
        default: false
        }
    }

    /// RFC 6901 escaping of one pointer segment.
    package static func escape(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}

/// Compiled regular expressions, shared across validations (compiling is far costlier than matching).
private final class PatternCache: Sendable {
    private let cache = Mutex<[String: NSRegularExpression]>([:])

    func matches(_ string: String, _ pattern: String) -> Bool {
        let regex: NSRegularExpression? = cache.withLock { cache in
            if let cached = cache[pattern] { return cached }
            let compiled = try? NSRegularExpression(pattern: pattern)
            cache[pattern] = compiled
            return compiled
        }
        guard let regex else { return false }
        let range = NSRange(string.startIndex..., in: string)
        return regex.firstMatch(in: string, options: [], range: range) != nil
    }
}
