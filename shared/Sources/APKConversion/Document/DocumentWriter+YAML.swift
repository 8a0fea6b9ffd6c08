package import APKModel
import Foundation
package import Yams

/// YAML text for ``JSONValue`` trees (kept out of APKModel so that the data plane never links Yams).
extension DocumentWriter {
    /// Block-style YAML, two-space indent, keys in the object's own order; starts with `---` when `explicitStart`.
    ///
    /// `quoteStrings` writes every string value double-quoted, as the reference's writer (Jackson's YAML defaults)
    /// does for the apk-confs it returns; otherwise strings are plain unless a reader would take them for another
    /// type. Lines are never folded (Jackson folds double-quoted values past 80 columns with escaped line breaks,
    /// which libyaml's emitter cannot reproduce; both read back as the same string).
    package static func yaml(_ value: JSONValue, explicitStart: Bool = false, quoteStrings: Bool = false) -> String {
        let node = yamlNode(value, quoteStrings: quoteStrings)
        do {
            return try Yams.serialize(
                node: node, indent: 2, width: -1, allowUnicode: true, lineBreak: .ln,
                explicitStart: explicitStart, sortKeys: false)
        } catch {
            // libyaml's emitter only fails on invalid events, which `yamlNode` never produces.
            return json(value, pretty: true)
        }
    }

    /// Several YAML documents in one stream, each starting with `---`.
    package static func yamlStream(_ values: [JSONValue]) -> String {
        values.map { yaml($0, explicitStart: true) }.joined()
    }

    /// The Yams node for a value; strings that a YAML reader would take for another type are quoted.
    package static func yamlNode(_ value: JSONValue, quoteStrings: Bool = false) -> Node {
        switch value {
        case .null: return Node.scalar(.init("null", Tag(.null), .plain))
        case .bool(let b): return Node.scalar(.init(b ? "true" : "false", Tag(.bool), .plain))
        case .int(let i): return Node.scalar(.init(String(i), Tag(.int), .plain))
        case .double(let d): return Node.scalar(.init(formatDouble(d), Tag(.float), .plain))
        case .string(let s):
            let style: Node.Scalar.Style = quoteStrings || needsQuotes(s) ? .doubleQuoted : .any
            return Node.scalar(.init(s, Tag(.str), style))
        case .array(let elements):
            return Node.sequence(.init(elements.map { yamlNode($0, quoteStrings: quoteStrings) }, Tag(.seq), .block))
        case .object(let object):
            let pairs = object.entries.map {
                (Node.scalar(.init($0.key, Tag(.str), keyStyle($0.key))), yamlNode($0.value, quoteStrings: quoteStrings))
            }
            return Node.mapping(.init(pairs, Tag(.map), .block))
        }
    }

    private static func keyStyle(_ key: String) -> Node.Scalar.Style { needsQuotes(key) ? .doubleQuoted : .any }

    /// True when a plain scalar with this text would not read back as the same string under YAML 1.1 or 1.2.
    private static func needsQuotes(_ s: String) -> Bool {
        if s.isEmpty { return true }
        if yaml11Ambiguous.contains(s.lowercased()) { return true }
        let plain = Node.scalar(.init(s))
        return Resolver.default.resolveTag(of: plain) != .str || DocumentParser.resolver.resolveTag(of: plain) != .str
    }

    private static let yaml11Ambiguous: Set<String> = ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"]
}
