import Foundation

/// Encodes `Encodable` models into ``JSONValue`` trees, keeping keys in encoding (declaration) order.
///
/// Synthesized `Encodable` conformances encode properties in declaration order and skip `nil` optionals, so a model
/// type's declaration fixes the field order of every YAML/JSON document made from it.
package enum JSONValueCoding {
    package static func encode(_ value: some Encodable) throws -> JSONValue {
        let encoder = ValueEncoder(codingPath: [])
        try value.encode(to: encoder)
        return encoder.box.value
    }

    /// Decodes a model from an already-validated ``JSONValue`` (see ``JSONValueDecoder``).
    package static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try JSONValueDecoder().decode(type, from: value)
    }
}

/// Mutable box so nested containers can write into their parent after being handed out.
private final class ValueBox {
    enum Content {
        case empty
        case value(JSONValue)
        case object([(String, ValueBox)])
        case array([ValueBox])
    }
    var content: Content = .empty

    var value: JSONValue {
        switch content {
        case .empty: .object(JSONObject())
        case .value(let v): v
        case .object(let members):
            .object(JSONObject(members.map { ($0.0, $0.1.value) }))
        case .array(let elements): .array(elements.map(\.value))
        }
    }
}

private struct ValueEncoder: Encoder {
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    let box: ValueBox

    init(codingPath: [any CodingKey], box: ValueBox = ValueBox()) {
        self.codingPath = codingPath
        self.box = box
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = box.content {} else { box.content = .object([]) }
        return KeyedEncodingContainer(KeyedContainer<Key>(codingPath: codingPath, box: box))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = box.content {} else { box.content = .array([]) }
        return UnkeyedContainer(codingPath: codingPath, box: box)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(codingPath: codingPath, box: box)
    }
}

private func boxed(_ value: some Encodable, path: [any CodingKey]) throws -> ValueBox {
    let box = ValueBox()
    switch value {
    case let string as String: box.content = .value(.string(string))
    case let bool as Bool: box.content = .value(.bool(bool))
    case let int as Int: box.content = .value(.int(int))
    case let double as Double: box.content = .value(.double(double))
    case let json as JSONValue: box.content = .value(json)
    default: try value.encode(to: ValueEncoder(codingPath: path, box: box))
    }
    return box
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    var codingPath: [any CodingKey]
    let box: ValueBox

    private func append(_ key: Key, _ child: ValueBox) {
        guard case .object(var members) = box.content else { return }
        if let existing = members.firstIndex(where: { $0.0 == key.stringValue }) {
            members[existing].1 = child
        } else {
            members.append((key.stringValue, child))
        }
        box.content = .object(members)
    }

    mutating func encodeNil(forKey key: Key) throws {
        let child = ValueBox()
        child.content = .value(.null)
        append(key, child)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        append(key, try boxed(value, path: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = ValueBox()
        append(key, child)
        return ValueEncoder(codingPath: codingPath + [key], box: child).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = ValueBox()
        append(key, child)
        return ValueEncoder(codingPath: codingPath + [key], box: child).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { ValueEncoder(codingPath: codingPath, box: box) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = ValueBox()
        append(key, child)
        return ValueEncoder(codingPath: codingPath + [key], box: child)
    }
}

private struct IndexKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ index: Int) {
        stringValue = String(index)
        intValue = index
    }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.init(intValue) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    var codingPath: [any CodingKey]
    let box: ValueBox
    var count: Int {
        if case .array(let elements) = box.content { elements.count } else { 0 }
    }

    private func append(_ child: ValueBox) {
        guard case .array(var elements) = box.content else { return }
        elements.append(child)
        box.content = .array(elements)
    }

    mutating func encodeNil() throws {
        let child = ValueBox()
        child.content = .value(.null)
        append(child)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        append(try boxed(value, path: codingPath + [IndexKey(count)]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = ValueBox()
        append(child)
        return ValueEncoder(codingPath: codingPath, box: child).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = ValueBox()
        append(child)
        return ValueEncoder(codingPath: codingPath, box: child).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let child = ValueBox()
        append(child)
        return ValueEncoder(codingPath: codingPath, box: child)
    }
}

private struct SingleContainer: SingleValueEncodingContainer {
    var codingPath: [any CodingKey]
    let box: ValueBox

    mutating func encodeNil() throws { box.content = .value(.null) }
    mutating func encode(_ value: Bool) throws { box.content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { box.content = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { box.content = .value(.double(value)) }
    mutating func encode(_ value: Float) throws { box.content = .value(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { box.content = .value(.int(value)) }
    mutating func encode(_ value: Int8) throws { box.content = .value(.int(Int(value))) }
    mutating func encode(_ value: Int16) throws { box.content = .value(.int(Int(value))) }
    mutating func encode(_ value: Int32) throws { box.content = .value(.int(Int(value))) }
    mutating func encode(_ value: Int64) throws { box.content = .value(.int(Int(value))) }
    mutating func encode(_ value: UInt) throws { box.content = .value(.int(Int(clamping: value))) }
    mutating func encode(_ value: UInt8) throws { box.content = .value(.int(Int(value))) }
    mutating func encode(_ value: UInt16) throws { box.content = .value(.int(Int(value))) }
    mutating func encode(_ value: UInt32) throws { box.content = .value(.int(Int(value))) }
    mutating func encode(_ value: UInt64) throws { box.content = .value(.int(Int(clamping: value))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let child = try boxed(value, path: codingPath)
        box.content = child.content
    }
}

extension JSONValue: Codable {
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? container.decode(Int.self) {
            self = .int(i)
        } else if let d = try? container.decode(Double.self) {
            self = .double(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else {
            // Key order is not recoverable through `Decoder`; models that need it decode from `JSONValue` directly.
            let dict = try container.decode([String: JSONValue].self)
            self = .object(JSONObject(dict.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .int(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o):
            try container.encode(Dictionary(o.entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }))
        }
    }
}
