import APKModel
import OpenAPIKit
import OpenAPIKit30
import OpenAPIKitCompat

/// Decoding OpenAPI 3.0 (then converted to 3.1 by `OpenAPIKitCompat`) and 3.1 documents, part by part.
extension OpenAPIModel {
    private typealias OAS30 = OpenAPIKit30.OpenAPI
    private typealias OAS31 = OpenAPIKit.OpenAPI

    /// Component sections decoded entry by entry (the rest of `components` stays in the skeleton).
    private static let sections30: Set<String> = [
        "schemas", "responses", "parameters", "examples", "requestBodies", "headers", "links", "callbacks",
    ]
    private static let sections31 = sections30.union(["pathItems"])

    static func decode30(_ document: JSONObject) throws(APKError) -> OpenAPIModel {
        let parts = DocumentParts(document, sections: sections30)
        let decoder = OpenAPIPartDecoder()
        var problems = ProblemCollector()
        let skeleton = problems.attempt { () throws(APKError) in
            try decoder.decode(
                OAS30.Document.self, from: parts.skeleton, at: [], vendorExtensions: true)
        }
        for entry in parts.components {
            _ = problems.attempt { () throws(APKError) in try check30(entry, decoder) }
        }
        // Path keys are replaced by their index while converting: `OpenAPI.Path` normalises keys (`/a/` and `/a`
        // collide), and the converter needs them exactly as written.
        var paths = OAS30.PathItem.Map()
        for (index, path) in parts.paths.enumerated() {
            let location = ["paths", path.key]
            let item = problems.attempt { () throws(APKError) in
                path.value["$ref"] == nil
                    ? .b(try decoder.decode(OAS30.PathItem.self, from: path.value, at: location))
                    : try decoder.decode(OAS30.PathItem.Map.Value.self, from: path.value, at: location)
            }
            if let item { paths[OAS30.Path(rawValue: "/\(index)")] = item }
        }
        try problems.throwIfAny()
        guard var document30 = skeleton else { throw OpenAPIProblems.invalid(at: "document", "unreadable") }
        document30.paths = paths
        let document31 = document30.convert(to: .v3_1_1)
        let entries = zip(parts.paths, document31.paths.values).map { (key: $0.key, entry: $1) }
        var model = try OpenAPIModel(document: document31, paths: entries, pathItemComponents: [:])
        model.rawPathItems = parts.rawPathItems
        return model
    }

    static func decode31(_ document: JSONObject) throws(APKError) -> OpenAPIModel {
        let parts = DocumentParts(document, sections: sections31)
        let decoder = OpenAPIPartDecoder()
        var problems = ProblemCollector()
        let skeleton = problems.attempt { () throws(APKError) in
            try decoder.decode(
                OAS31.Document.self, from: parts.skeleton, at: [], vendorExtensions: true)
        }
        var pathItemComponents: [String: OAS31.PathItem] = [:]
        for entry in parts.components {
            if entry.section == "pathItems" {
                let location = ["components", "pathItems", entry.name]
                pathItemComponents[entry.name] = problems.attempt { () throws(APKError) in
                    try decoder.decode(OAS31.PathItem.self, from: entry.value, at: location)
                }
            } else {
                _ = problems.attempt { () throws(APKError) in try check31(entry, decoder) }
            }
        }
        for hook in parts.webhooks {
            _ = problems.attempt { () throws(APKError) in
                try decoder.decode(
                    PathEntry.self, from: hook.value, at: ["webhooks", hook.key])
            }
        }
        var entries: [(key: String, entry: PathEntry)] = []
        for path in parts.paths {
            let location = ["paths", path.key]
            let entry = problems.attempt { () throws(APKError) in
                path.value["$ref"] == nil
                    ? .b(try decoder.decode(OAS31.PathItem.self, from: path.value, at: location))
                    : try decoder.decode(PathEntry.self, from: path.value, at: location)
            }
            if let entry { entries.append((key: path.key, entry: entry)) }
        }
        try problems.throwIfAny()
        guard let skeleton else { throw OpenAPIProblems.invalid(at: "document", "unreadable") }
        var model = try OpenAPIModel(document: skeleton, paths: entries, pathItemComponents: pathItemComponents)
        model.rawPathItems = parts.rawPathItems
        return model
    }

    /// Validates one 3.0 component entry by decoding it.
    private static func check30(
        _ entry: (section: String, name: String, value: JSONValue), _ decoder: OpenAPIPartDecoder
    ) throws(APKError) {
        let at = ["components", entry.section, entry.name]
        let value = entry.value
        switch entry.section {
        case "schemas": _ = try decoder.decode(OpenAPIKit30.JSONSchema.self, from: value, at: at)
        case "responses": _ = try decoder.decode(OAS30.Response.self, from: value, at: at)
        case "parameters": _ = try decoder.decode(OAS30.Parameter.self, from: value, at: at)
        case "examples": _ = try decoder.decode(OAS30.Example.self, from: value, at: at)
        case "requestBodies": _ = try decoder.decode(OAS30.Request.self, from: value, at: at)
        case "headers": _ = try decoder.decode(OAS30.Header.self, from: value, at: at)
        case "links": _ = try decoder.decode(OAS30.Link.self, from: value, at: at)
        case "callbacks": _ = try decoder.decode(OAS30.Callbacks.self, from: value, at: at)
        default: break
        }
    }

    /// Validates one 3.1 component entry by decoding it (entries may be references).
    private static func check31(
        _ entry: (section: String, name: String, value: JSONValue), _ decoder: OpenAPIPartDecoder
    ) throws(APKError) {
        let at = ["components", entry.section, entry.name]
        let value = entry.value
        switch entry.section {
        case "schemas": _ = try decoder.decode(OpenAPIKit.JSONSchema.self, from: value, at: at)
        case "responses": _ = try decoder.decode(Entry31<OAS31.Response>.self, from: value, at: at)
        case "parameters": _ = try decoder.decode(Entry31<OAS31.Parameter>.self, from: value, at: at)
        case "examples": _ = try decoder.decode(Entry31<OAS31.Example>.self, from: value, at: at)
        case "requestBodies": _ = try decoder.decode(Entry31<OAS31.Request>.self, from: value, at: at)
        case "headers": _ = try decoder.decode(Entry31<OAS31.Header>.self, from: value, at: at)
        case "links": _ = try decoder.decode(Entry31<OAS31.Link>.self, from: value, at: at)
        case "callbacks": _ = try decoder.decode(Entry31<OAS31.Callbacks>.self, from: value, at: at)
        default: break
        }
    }

    private typealias Entry31<T: OpenAPIKit.ComponentDictionaryLocatable & Decodable> = Either<OAS31.Reference<T>, T>
}
