/// A JSON-compatible document value that keeps object keys in document order.
///
/// Every outside document (apk-conf, OpenAPI, CR specs) is parsed into this type first, so that validation can
/// report every violation with a JSON pointer before anything is decoded into typed models.
package enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The JSON-schema type name used in validation messages (`String`, `Boolean`, `Integer`, …).
    package var typeName: String {
        switch self {
        case .null: "Null"
        case .bool: "Boolean"
        case .int: "Integer"
        case .double: "Number"
        case .string: "String"
        case .array: "JSONArray"
        case .object: "JSONObject"
        }
    }

    package var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    package var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    package var intValue: Int? { if case .int(let i) = self { i } else { nil } }
    package var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    package var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }

    /// Member lookup for objects; `nil` for other values or absent keys.
    package subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }
}

/// An ordered JSON object: keys keep their document order; lookups are O(1).
package struct JSONObject: Sendable, Hashable, Sequence {
    package private(set) var entries: [(key: String, value: JSONValue)] = []
    private var index: [String: Int] = [:]

    package init() {}

    package init(_ pairs: [(String, JSONValue)]) {
        for (k, v) in pairs { self[k] = v }
    }

    package var count: Int { entries.count }
    package var keys: [String] { entries.map(\.key) }
    package var isEmpty: Bool { entries.isEmpty }

    /// Reads a member; assigning replaces in place (keeping the position) or appends; assigning `nil` removes.
    package subscript(key: String) -> JSONValue? {
        get { index[key].map { entries[$0].value } }
        set {
            if let position = index[key] {
                if let newValue {
                    entries[position].value = newValue
                } else {
                    entries.remove(at: position)
                    index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.key, $0) })
                }
            } else if let newValue {
                index[key] = entries.count
                entries.append((key, newValue))
            }
        }
    }

    package func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        entries.makeIterator()
    }

    package static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(entries.count)
        for (k, v) in entries {
            hasher.combine(k)
            hasher.combine(v)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    package init(stringLiteral value: String) { self = .string(value) }
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    package init(integerLiteral value: Int) { self = .int(value) }
    package init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    package init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
    package init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    /// The same value with every whole-number double (`100.0`) turned into an integer, as JSON Schema's
    /// `integer` type accepts them; typed models then decode `Int` fields from either spelling.
    package func integralNumbersAsIntegers() -> JSONValue {
        switch self {
        case .double(let d) where d == d.rounded() && abs(d) < 9e15: .int(Int(d))
        case .array(let elements): .array(elements.map { $0.integralNumbersAsIntegers() })
        case .object(let object): .object(JSONObject(object.entries.map { ($0.key, $0.value.integralNumbersAsIntegers()) }))
        default: self
        }
    }
}
