package import APKModel
package import Foundation
import Yams

/// Turns outside bytes (JSON or YAML) into a ``JSONValue`` within fixed bounds.
///
/// Bounds keep hostile input harmless: a size cap, a nesting cap, and a cap on the number of values after YAML
/// alias expansion (a "billion laughs" document is rejected instead of exploding).
package struct DocumentParser: Sendable {
    /// Largest accepted document, in bytes.
    package var maxBytes: Int
    /// Deepest accepted nesting of arrays and objects.
    package var maxDepth: Int
    /// Most values (scalars, arrays, objects) a document may expand to.
    package var maxValues: Int

    package init(maxBytes: Int = 16 << 20, maxDepth: Int = 128, maxValues: Int = 2_000_000) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxValues = maxValues
    }

    /// Why a document could not be read.
    package enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case tooLarge(limit: Int)
        case notText
        case malformed(String)
        case tooComplex(String)

        package var description: String {
            switch self {
            case .empty: "the document is empty"
            case .tooLarge(let limit): "the document is larger than \(limit) bytes"
            case .notText: "the document is not UTF-8 text"
            case .malformed(let reason): "the document is not valid JSON or YAML: \(reason)"
            case .tooComplex(let reason): "the document is too complex: \(reason)"
            }
        }
    }

    /// Parses a JSON document (when it starts with `{` or `[`) or a single YAML document.
    package func parse(_ data: Data) throws(Failure) -> JSONValue {
        guard data.count <= maxBytes else { throw .tooLarge(limit: maxBytes) }
        let bytes = [UInt8](data)
        guard let firstSignificant = bytes.firstIndex(where: { !Self.isWhitespace($0) }) else { throw .empty }
        if bytes.contains(0) { throw .notText }
        if bytes[firstSignificant] == UInt8(ascii: "{") || bytes[firstSignificant] == UInt8(ascii: "[") {
            do {
                return try JSONParser.parse(bytes, maxDepth: maxDepth)
            } catch {
                // `{a: 1}` is valid YAML (a flow mapping): try YAML before reporting the JSON problem. A trailing
                // comma is legal in YAML flow collections, so such a document is accepted with the same meaning.
                if let value = try? parseYAML(bytes) { return value }
                throw .malformed("\(error.reason) at byte \(error.offset)")
            }
        }
        return try parseYAML(bytes)
    }

    private func parseYAML(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        guard var text = String(validating: bytes, as: UTF8.self) else { throw .notText }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let node: Node?
        do {
            let parser = try Parser(yaml: text, resolver: Self.resolver, constructor: .default, encoding: .utf8)
            node = try parser.singleRoot()
        } catch let error as YamlError {
            throw .malformed(Self.describe(error))
        } catch {
            throw .malformed("unreadable YAML")
        }
        guard let node else { throw .empty }
        var budget = maxValues
        return try convert(node, depth: 0, budget: &budget)
    }

    private func convert(_ node: Node, depth: Int, budget: inout Int) throws(Failure) -> JSONValue {
        guard depth <= maxDepth else { throw .tooComplex("nesting deeper than \(maxDepth) levels") }
        budget -= 1
        guard budget >= 0 else { throw .tooComplex("more than \(maxValues) values after alias expansion") }
        switch node {
        case .scalar(let scalar):
            return Self.scalarValue(scalar)
        case .sequence(let sequence):
            var elements: [JSONValue] = []
            elements.reserveCapacity(sequence.count)
            for element in sequence { elements.append(try convert(element, depth: depth + 1, budget: &budget)) }
            return .array(elements)
        case .mapping(let mapping):
            var object = JSONObject()
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let keyScalar) = keyNode else {
                    throw .malformed("mapping keys must be scalars")
                }
                let key = keyScalar.string
                guard object[key] == nil else { throw .malformed("duplicate key \"\(key)\"") }
                object[key] = try convert(valueNode, depth: depth + 1, budget: &budget)
            }
            return .object(object)
        case .alias:
            throw .malformed("unresolved alias")
        }
    }

    private static func scalarValue(_ scalar: Node.Scalar) -> JSONValue {
        guard scalar.style == .plain || scalar.style == .any else { return .string(scalar.string) }
        // An explicit tag (`!!str 3.14`) wins; untagged plain scalars are typed by the YAML 1.2 rules.
        let explicit = scalar.tag.rawValue
        let tag = explicit.isEmpty || explicit == "!" ? resolver.resolveTag(of: Node.scalar(.init(scalar.string))).rawValue : explicit
        switch tag {
        case Tag.Name.null.rawValue: return .null
        case Tag.Name.bool.rawValue: return .bool(scalar.string.lowercased() == "true")
        case Tag.Name.int.rawValue:
            if let value = Int(scalar.string.replacingOccurrences(of: "_", with: "")) { return .int(value) }
            if let value = Int.construct(from: scalar) { return .int(value) }
            return .string(scalar.string)
        case Tag.Name.float.rawValue:
            if let value = Double.construct(from: scalar), value.isFinite { return .double(value) }
            return .string(scalar.string)
        default:
            return .string(scalar.string)
        }
    }

    /// YAML 1.2 core-schema resolution: only `true`/`false` are booleans (no `yes`/`on`), timestamps stay strings.
    static let resolver: Resolver = {
        do {
            return try Resolver.basic
                .appending(.bool, "^(?:true|True|TRUE|false|False|FALSE)$")
                .appending(.int, "^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
                .appending(.float, "^(?:[-+]?(?:\\.[0-9]+|[0-9]+(?:\\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$")
                .appending(.null, "^(?:~|null|Null|NULL|)$")
        } catch {
            return Resolver.default  // unreachable: the patterns above are constant and valid
        }
    }()

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            let where_ = "line \(mark.line), column \(mark.column)"
            if let context { return "\(context.text) \(problem) at \(where_)" }
            return "\(problem) at \(where_)"
        case .composer(let context, let problem, let mark, _):
            return "\(context?.text ?? "") \(problem) at line \(mark.line), column \(mark.column)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return "duplicate key \(keys) at line \(context.mark.line)"
        case .reader(let problem, let offset, _, _):
            return "\(problem)\(offset.map { " at byte \($0)" } ?? "") (control characters and invalid UTF-8 are not allowed)"
        default:
            return "unreadable YAML"
        }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
