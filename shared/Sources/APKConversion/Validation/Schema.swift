import APKModel
import Foundation

/// A JSON-Schema subset, written as Swift values: what the apk-conf validation needs and nothing more.
///
/// Objects reject unknown keys unless they say otherwise (APK's schema sets `additionalProperties: false`
/// everywhere), so a typo anywhere in an apk-conf is reported instead of silently ignored.
package indirect enum Schema: Sendable {
    case string(StringRule = StringRule())
    case integer(minimum: Int? = nil, maximum: Int? = nil)
    case number(minimum: Double? = nil)
    case boolean
    case array(of: Schema, minItems: Int? = nil, maxItems: Int? = nil)
    case object(ObjectRule)
    /// A tagged union: the value of `key` picks the schema; unknown tags are an enum violation on that key.
    case tagged(key: String, cases: [(tag: String, schema: Schema)])
    /// Exactly one alternative must match; when none does, the closest alternative's violations are reported.
    case oneOf([Schema])
    /// Anything (free-form values such as policy parameters of unknown shape).
    case any

    package struct StringRule: Sendable {
        package var minLength: Int?
        package var maxLength: Int?
        package var pattern: String?
        package var allowed: [String]?

        package init(minLength: Int? = nil, maxLength: Int? = nil, pattern: String? = nil, allowed: [String]? = nil) {
            self.minLength = minLength
            self.maxLength = maxLength
            self.pattern = pattern
            self.allowed = allowed
        }
    }

    package struct ObjectRule: Sendable {
        package var properties: [(name: String, schema: Schema)]
        package var required: [String]
        /// Schema for keys not in `properties`; `nil` rejects them.
        package var additional: Schema?

        package init(_ properties: [(String, Schema)], required: [String] = [], additional: Schema? = nil) {
            self.properties = properties.map { (name: $0.0, schema: $0.1) }
            self.required = required
            self.additional = additional
        }

        func schema(for key: String) -> Schema? {
            properties.first { $0.name == key }?.schema
        }
    }

    /// Shorthand for a closed object.
    package static func object(_ properties: [(String, Schema)], required: [String] = []) -> Schema {
        .object(ObjectRule(properties, required: required))
    }

    /// Shorthand for a string enumeration.
    package static func oneOfStrings(_ values: [String]) -> Schema { .string(StringRule(allowed: values)) }

    /// The type names a value may have under this schema (for "expected type" messages).
    var typeNames: [String] {
        switch self {
        case .string: ["String"]
        case .integer: ["Integer"]
        case .number: ["Number"]
        case .boolean: ["Boolean"]
        case .array: ["JSONArray"]
        case .object, .tagged: ["JSONObject"]
        case .oneOf(let alternatives): alternatives.flatMap(\.typeNames)
        case .any: []
        }
    }
}
