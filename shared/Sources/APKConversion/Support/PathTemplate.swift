import APKModel
/// REST operation targets (`/pets/{id}`, `/files/*`, `/`) and their HTTPRoute match regex and rewrite (§5.3).
package enum PathTemplate {
    /// Why a REST target is not a usable path template, or `nil` when it is.
    package static func problem(in target: String) -> String? {
        guard target.hasPrefix("/") else { return "target [\(target)] must start with /" }
        if target.contains("//") { return "target [\(target)] contains an empty path segment" }
        let segments = target.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for (i, segment) in segments.enumerated() {
            if segment == "*" {
                if i != segments.count - 1 { return "target [\(target)] may use * only as its last segment" }
                continue
            }
            if segment.contains("*") { return "target [\(target)] may use * only as a whole segment" }
            if segment.hasPrefix("{") || segment.hasSuffix("}") {
                let name = segment.dropFirst().dropLast()
                guard segment.hasPrefix("{"), segment.hasSuffix("}"), !name.isEmpty,
                    name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." })
                else { return "target [\(target)] has a malformed path parameter [\(segment)]" }
            } else if segment.contains("{") || segment.contains("}") {
                return "target [\(target)] has a malformed path parameter [\(segment)]"
            }
        }
        return nil
    }

    /// The match regex relative to the API base path: `{param}` → `(.*)`, trailing `/*` → `(.*)`; literal text is
    /// regex-escaped (a `.` in a path matches only a dot).
    package static func matchRegex(for target: String) -> String {
        if target == "/*" { return "(.*)" }
        if target == "/" { return "/" }
        var base = target
        var wildcard = false
        if base.hasSuffix("/*") {
            base.removeLast(2)
            wildcard = true
        }
        let segments = base.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var regex = ""
        for segment in segments {
            regex += "/"
            regex += isParameter(segment) ? "(.*)" : escape(String(segment))
        }
        if wildcard { regex += "(.*)" }
        return regex
    }

    /// The rewrite appended to the Backend base path, with `\N` for the N-th capture.
    package static func rewrite(for target: String) -> String {
        if target == "/*" { return "\\1" }
        if target == "/" { return "/" }
        var base = target
        var wildcard = false
        if base.hasSuffix("/*") {
            base.removeLast(2)
            wildcard = true
        }
        var capture = 0
        var rewrite = ""
        for segment in base.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            rewrite += "/"
            if isParameter(segment) {
                capture += 1
                rewrite += "\\\(capture)"
            } else {
                rewrite += segment
            }
        }
        if wildcard { rewrite += "\\\(capture + 1)" }
        return rewrite
    }

    /// Path parameter names in order.
    package static func parameters(in target: String) -> [String] {
        target.split(separator: "/").filter(isParameter).map { String($0.dropFirst().dropLast()) }
    }

    private static func isParameter(_ segment: Substring) -> Bool { segment.hasPrefix("{") && segment.hasSuffix("}") }

    /// Escapes regex metacharacters (RE2 and ICU agree on this set).
    package static func escape(_ literal: String) -> String {
        var out = ""
        for ch in literal {
            if "\\.+*?()|[]{}^$".contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return out
    }
}
