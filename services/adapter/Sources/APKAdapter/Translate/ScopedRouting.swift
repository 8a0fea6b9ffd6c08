import EnvoyProtos
import Foundation
import SwiftProtobuf

/// Scoped routing (Envoy SRDS): the routes are split by the first segment of the request path into one route
/// configuration per segment, so that a deploy makes Envoy rebuild only the route configuration of its own segment
/// instead of every route of the gateway, and a request is matched only against the routes of its segment.
///
/// Envoy computes the scope key from a header: an early header mutation (runs before route selection) copies the
/// path without its query string into ``pathHeader``, and the key is that header's element 1 split at `/`
/// (`/pets/1?x=y` → `pets`, `/` → ``). A request whose segment has no scope gets the 404 local reply. Each route
/// configuration removes the header again, so upstreams never see it.
package enum ScopedRouting {
    /// The header the scope key is read from (set by Envoy itself; a client's value is overwritten).
    package static let pathHeader = "x-apk-scope-path"

    /// The scope of a route: the first segment of its base path, or, when the base path is the root (a default-
    /// version API whose base path is only its version), the route's own first path segment (``RouteIR/pathSegment``,
    /// computed when the IR is built); nil when that is not literal (`/{id}`, `/*`): no scope can hold such a route.
    package static func segment(basePath: String, pathSegment: String?) -> String? {
        var base = Substring(basePath)
        if base.hasPrefix("/") { base = base.dropFirst() }
        if !base.isEmpty { return String(base.prefix { $0 != "/" }) }
        return pathSegment
    }

    /// The first path segment of every path an HTTPRoute path match accepts, when there is one; nil when the match
    /// accepts several (a non-literal first segment, or PathPrefix `/`). Exact and PathPrefix values are literal
    /// paths; RegularExpression values are read up to the first character that is not a literal.
    package static func pathSegment(matchType: String, value: String) -> String? {
        switch matchType {
        case "Exact": return literalSegment(ofPath: value)
        case "PathPrefix": return value.isEmpty || value == "/" ? nil : literalSegment(ofPath: value)
        case "RegularExpression": return literalSegment(ofRegex: value)
        default: return nil
        }
    }

    /// The first segment of a literal path (`/pets/1` → `pets`, `/` and `` → ``); nil when it holds a character that
    /// is not an unreserved URL character.
    package static func literalSegment(ofPath path: String) -> String? {
        guard path.hasPrefix("/") else { return path.isEmpty ? "" : nil }
        let first = path.dropFirst().prefix { $0 != "/" }
        return first.allSatisfy(isSegmentCharacter) ? String(first) : nil
    }

    /// The literal first segment of an operation regex (`/pets/(.*)` → `pets`, `/v1\.2` → `v1.2`); nil when the
    /// first segment is not literal (`/(.*)`, `/pets(.*)`).
    package static func literalSegment(ofRegex operationRegex: String) -> String? {
        var regex = Substring(operationRegex)
        guard regex.hasPrefix("/") else { return regex.isEmpty ? "" : nil }
        regex = regex.dropFirst()
        var segment = ""
        while let character = regex.first {
            if character == "/" { return segment }
            if character == "\\", regex.dropFirst().first == "." {
                segment.append(".")
                regex = regex.dropFirst(2)
                continue
            }
            guard character != ".", isSegmentCharacter(character) else {
                // What may follow a literal segment: the end of a PathPrefix match, or an optional trailing slash.
                return regex == "((?:/.*)*)" || regex == "([/]{0,1})" ? segment : nil
            }
            segment.append(character)
            regex = regex.dropFirst()
        }
        return segment
    }

    private static func isSegmentCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "-_~.".contains(character))
    }
}
