import APKModel
import Foundation

/// A definition read from bytes into OpenAPI 3 form (still a ``JSONValue`` tree, keys in document order).
///
/// Swagger 2.0 documents are converted to OpenAPI 3.0.3 here (``SwaggerConverter``), so everything after this point
/// handles only OpenAPI 3.0 and 3.1.
struct OpenAPISource {
    /// The version family of the document that was read.
    enum Kind: Equatable {
        case swagger20, openAPI30, openAPI31
    }

    var kind: Kind
    /// The document in OpenAPI 3 form: 3.0.x or 3.1.x as given, or Swagger 2.0 converted to 3.0.3.
    var document: JSONObject

    /// OpenAPI 3.1 semantics (`kind == .openAPI31`); otherwise 3.0.
    var is31: Bool { kind == .openAPI31 }

    /// Parses `data` with the bounded parser and detects the version; Swagger 2.0 is converted to OpenAPI 3.0.
    static func read(_ data: Data, parser: DocumentParser) throws(APKError) -> OpenAPISource {
        let root: JSONValue
        do {
            root = try parser.parse(data)
        } catch {
            throw OpenAPIProblems.unreadable(error)
        }
        guard case .object(let document) = root else {
            throw OpenAPIProblems.invalid(
                at: "document", "an OpenAPI definition must be an object, found \(root.typeName)")
        }
        switch try kind(of: document) {
        case .swagger20: return OpenAPISource(kind: .swagger20, document: try SwaggerConverter.openAPI30(from: document))
        case let kind: return OpenAPISource(kind: kind, document: document)
        }
    }

    /// Which supported version `document` declares (`openapi: 3.0.x | 3.1.x`, or `swagger: "2.0"`).
    static func kind(of document: JSONObject) throws(APKError) -> Kind {
        if let declared = document["openapi"] {
            guard case .string(let version) = declared else {
                throw OpenAPIProblems.invalid(
                    at: "openapi", "the version must be a string such as \"3.0.3\", found \(declared.typeName)")
            }
            if isVersion(version, major: 3, minor: 0) { return .openAPI30 }
            if isVersion(version, major: 3, minor: 1) { return .openAPI31 }
            throw OpenAPIProblems.invalid(
                at: "openapi",
                "unsupported OpenAPI version \"\(OpenAPIProblems.shorten(version, to: 40))\" "
                    + "(supported: 3.0.x, 3.1.x and Swagger 2.0)")
        }
        if let declared = document["swagger"] {
            // `swagger: 2.0` without quotes is a YAML number; accept it like the string.
            if declared == .string("2.0") || declared == .double(2) { return .swagger20 }
            throw OpenAPIProblems.invalid(
                at: "swagger", "unsupported Swagger version (supported: \"2.0\", OpenAPI 3.0.x and 3.1.x)")
        }
        throw OpenAPIProblems.invalid(
            at: "document", "not an OpenAPI or Swagger definition: neither an openapi nor a swagger field was found")
    }

    /// True for `major.minor.patch` with a numeric patch (`3.0.3`, `3.1.0`).
    private static func isVersion(_ text: String, major: Int, minor: Int) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0] == "\(major)" && parts[1] == "\(minor)" && !parts[2].isEmpty
            && parts[2].allSatisfy { $0.isASCII && $0.isNumber }
    }
}
