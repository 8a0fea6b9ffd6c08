import APKModel
import OpenAPIKit

/// The 400 / 90091 problems of definitions that cannot be converted: short, readable, naming where.
enum OpenAPIProblems {
    /// Longest `message` of a problem (the `description` may be longer).
    static let maxMessageLength = 300
    /// Longest `description` of a problem; user text is never echoed in full.
    static let maxDescriptionLength = 1_000

    /// A problem at `location` (`paths['/pets'].get`, `openapi`, `document`).
    static func problem(at location: String, _ reason: String) -> DefinitionProblem {
        let text = "\(location): \(reason)"
        return DefinitionProblem(
            message: shorten(text, to: maxMessageLength), description: shorten(text, to: maxDescriptionLength))
    }

    /// The 400 / 90091 error for one problem.
    static func invalid(at location: String, _ reason: String) -> APKError {
        .invalidDefinition([problem(at: location, reason)])
    }

    /// A problem for an error thrown while decoding an OpenAPIKit model from the part at `location` (the
    /// error's own coding path, which includes the part's, wins when it has one).
    static func decodingProblem(_ error: any Error, at location: String) -> DefinitionProblem {
        let readable = OpenAPI.Error(from: error)
        var path = Substring(readable.codingPathString)
        if path.hasPrefix(".") { path = path.dropFirst() }
        return problem(at: path.isEmpty ? location : String(path), readable.localizedDescription)
    }

    /// A document location from path segments: `["paths", "/a/{b}", "get"]` → `paths['/a/{b}'].get`.
    static func location(_ path: [String]) -> String {
        guard let first = path.first else { return "document" }
        return path.dropFirst().reduce(first) { result, segment in
            segment.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
                ? "\(result).\(segment)" : member(result, segment)
        }
    }

    /// The error for a document `DocumentParser` could not read: 413 when too large, else 400 / 90091.
    static func unreadable(_ failure: DocumentParser.Failure) -> APKError {
        if case .tooLarge(let limit) = failure { return .payloadTooLarge(limit: limit) }
        return invalid(at: "document", failure.description)
    }

    /// `text` cut to at most `limit` characters, marked with `…` when cut.
    static func shorten(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(max(0, limit - 1))) + "…"
    }

    /// A map key as it appears in locations: `paths['/pets/{id}']`.
    static func member(_ parent: String, _ key: String) -> String {
        "\(parent)['\(shorten(key, to: 120))']"
    }
}
