import APKModel
import OpenAPIKit

/// What the converter needs from an OpenAPI document, in OpenAPIKit's 3.1 types (3.0 is converted by
/// `OpenAPIKitCompat`), with path keys exactly as written and in document order.
struct OpenAPIModel {
    var title: String
    var version: String
    var servers: [OpenAPI.Server]
    /// Document-level security requirements (empty when none).
    var security: [OpenAPI.SecurityRequirement]
    /// `components.securitySchemes` in document order, internal `$ref`s resolved.
    var securitySchemes: [(name: String, scheme: OpenAPI.SecurityScheme)]
    /// Path keys as written (`/pets/`, not normalised) with their items, in document order.
    var paths: [(key: String, item: OpenAPI.PathItem)]
    /// The path items as written, by path key: what the reference reads from the raw document (`x-scope`, whether
    /// a `servers` key appears under `paths`).
    var rawPathItems: [String: JSONValue] = [:]

    /// Decodes an OpenAPI 3.0 or 3.1 document (in ``OpenAPISource`` form), collecting every problem found.
    static func decode(_ source: OpenAPISource) throws(APKError) -> OpenAPIModel {
        source.is31 ? try decode31(source.document) : try decode30(source.document)
    }

    typealias PathEntry = Either<OpenAPI.Reference<OpenAPI.PathItem>, OpenAPI.PathItem>

    /// Assembles the model from a decoded document and its separately decoded path items.
    init(
        document: OpenAPI.Document, paths: [(key: String, entry: PathEntry)],
        pathItemComponents: [String: OpenAPI.PathItem]
    ) throws(APKError) {
        title = document.info.title
        version = document.info.version
        servers = document.servers
        security = document.security
        let declared = document.components.securitySchemes
        securitySchemes = declared.compactMap { key, entry in
            Self.resolve(entry, in: declared).map { (name: key.rawValue, scheme: $0) }
        }
        var problems = ProblemCollector()
        self.paths = paths.compactMap { key, entry in
            problems.attempt { () throws(APKError) -> (key: String, item: OpenAPI.PathItem) in
                (key: key, item: try Self.resolve(entry, key: key, in: pathItemComponents))
            }
        }
        try problems.throwIfAny()
    }

    /// A security scheme, following one internal `$ref` to another entry of `components.securitySchemes`.
    private static func resolve(
        _ entry: Either<OpenAPI.Reference<OpenAPI.SecurityScheme>, OpenAPI.SecurityScheme>,
        in declared: OpenAPI.ComponentReferenceDictionary<OpenAPI.SecurityScheme>
    ) -> OpenAPI.SecurityScheme? {
        switch entry {
        case .b(let scheme): return scheme
        case .a(let reference):
            guard reference.isInternal, let name = reference.name,
                let key = OpenAPI.ComponentKey(rawValue: name), case .b(let scheme)? = declared[key]
            else { return nil }
            return scheme
        }
    }

    /// A path item, following an internal `$ref` to `components.pathItems` (3.1); other references are errors.
    private static func resolve(
        _ entry: PathEntry, key: String, in components: [String: OpenAPI.PathItem]
    ) throws(APKError) -> OpenAPI.PathItem {
        switch entry {
        case .b(let item): return item
        case .a(let reference):
            if reference.isInternal, let name = reference.name, let item = components[name] { return item }
            throw OpenAPIProblems.invalid(
                at: OpenAPIProblems.member("paths", key),
                "the path item reference \(OpenAPIProblems.shorten(reference.absoluteString, to: 120)) "
                    + "cannot be resolved (only #/components/pathItems/<name> is supported)")
        }
    }
}

/// Collects up to ``limit`` definition problems, so one response lists many of them.
struct ProblemCollector {
    static let limit = 20
    private(set) var problems: [DefinitionProblem] = []

    var isFull: Bool { problems.count >= Self.limit }

    /// Runs `body`; a thrown error becomes problems and the result nil. Does nothing once ``limit`` is reached.
    mutating func attempt<T>(_ body: () throws(APKError) -> T) -> T? {
        guard !isFull else { return nil }
        do {
            return try body()
        } catch {
            problems += error.definitionProblems ?? [DefinitionProblem(message: error.message, description: error.detail)]
            return nil
        }
    }

    /// Throws 400 / 90091 with every collected problem, if any.
    func throwIfAny() throws(APKError) {
        guard !problems.isEmpty else { return }
        throw .invalidDefinition(Array(problems.prefix(Self.limit)))
    }
}

/// A document split for decoding: the big maps (paths, component sections, webhooks) come out entry by entry and
/// are replaced by empty objects in the ``skeleton``. Entry-wise decoding keeps path keys exactly as written (an
/// `OpenAPI.Path` key is normalised), names the failing entry in problems, collects one problem per entry, and
/// lets vendor extensions be read only in the small skeleton (see ``OpenAPIPartDecoder``).
struct DocumentParts {
    var skeleton: JSONValue
    var paths: [(key: String, value: JSONValue)] = []
    var components: [(section: String, name: String, value: JSONValue)] = []
    var webhooks: [(key: String, value: JSONValue)] = []

    /// The path items by key (a duplicate key keeps its first item).
    var rawPathItems: [String: JSONValue] { Dictionary(paths.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first }) }

    /// Splits `document`; `sections` names the component sections decoded entry by entry.
    init(_ document: JSONObject, sections: Set<String>) {
        var skeleton = document
        if case .object(let paths)? = document["paths"] {
            self.paths = paths.entries
            skeleton["paths"] = .object(JSONObject())
        }
        if case .object(let hooks)? = document["webhooks"] {
            webhooks = hooks.entries
            skeleton["webhooks"] = nil
        }
        if case .object(var components)? = document["components"] {
            for section in components.keys where sections.contains(section) {
                guard case .object(let entries)? = components[section] else { continue }
                self.components += entries.entries.map { (section: section, name: $0.key, value: $0.value) }
                components[section] = nil
            }
            skeleton["components"] = .object(components)
        }
        self.skeleton = .object(skeleton)
    }
}
