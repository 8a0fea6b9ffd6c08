import Foundation

/// Splits header values of the form `value; key=token; key="quoted \"string\""` (Content-Type,
/// Content-Disposition). Parameter names are lower-cased; a repeated parameter keeps its first value.
package enum HeaderParameters {
    package static func split(_ header: String) -> (value: String, parameters: [String: String]) {
        var scalars = Substring(header).unicodeScalars[...]
        let value = String(readUntil(&scalars, stopAt: ";")).trimmingCharacters(in: .whitespaces)
        var parameters: [String: String] = [:]
        while !scalars.isEmpty {
            scalars = scalars.dropFirst()  // ";"
            let name = String(readUntil(&scalars, stopAt: "=", orAt: ";")).trimmingCharacters(in: .whitespaces)
                .lowercased()
            guard scalars.first == "=" else { continue }
            scalars = scalars.dropFirst()
            while scalars.first == " " || scalars.first == "\t" { scalars = scalars.dropFirst() }
            let parameter: String
            if scalars.first == "\"" {
                parameter = readQuoted(&scalars)
                _ = readUntil(&scalars, stopAt: ";")  // ignore anything after the closing quote
            } else {
                parameter = String(readUntil(&scalars, stopAt: ";")).trimmingCharacters(in: .whitespaces)
            }
            if !name.isEmpty, parameters[name] == nil { parameters[name] = parameter }
        }
        return (value, parameters)
    }

    private static func readUntil(
        _ scalars: inout Substring.UnicodeScalarView.SubSequence, stopAt stop: Unicode.Scalar,
        orAt other: Unicode.Scalar? = nil
    ) -> String.UnicodeScalarView {
        var out = String.UnicodeScalarView()
        while let scalar = scalars.first, scalar != stop, scalar != other {
            out.append(scalar)
            scalars = scalars.dropFirst()
        }
        return out
    }

    /// Reads a quoted string starting at `"`; backslash escapes the next character.
    private static func readQuoted(_ scalars: inout Substring.UnicodeScalarView.SubSequence) -> String {
        var out = String.UnicodeScalarView()
        scalars = scalars.dropFirst()  // opening quote
        while let scalar = scalars.first {
            scalars = scalars.dropFirst()
            if scalar == "\"" { break }
            if scalar == "\\", let next = scalars.first {
                out.append(next)
                scalars = scalars.dropFirst()
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}
