import APKModel
/// Swagger 2.0 → OpenAPI 3.0.3, on ``JSONValue`` trees (OpenAPIKit cannot read Swagger 2.0).
///
/// Covers what the gateway and the stored definition need: servers from `schemes[0]://host/basePath`, operations
/// (body and form parameters become request bodies, response schemas become content for each `produces` type),
/// `definitions` → `components.schemas`, `securityDefinitions` → `components.securitySchemes` (OAuth2 flows
/// renamed: `application` → `clientCredentials`, `accessCode` → `authorizationCode`). `$ref`s to `#/parameters/…`
/// and `#/responses/…` are inlined; `#/definitions/…` become `#/components/schemas/…`. Anything else wrong in the
/// input is reported by OpenAPIKit when the result is decoded.
enum SwaggerConverter {
    static let methods = ["get", "put", "post", "delete", "options", "head", "patch"]

    static func openAPI30(from swagger: JSONObject) throws(APKError) -> JSONObject {
        let context = Context(
            consumes: strings(swagger["consumes"]) ?? ["application/json"],
            produces: strings(swagger["produces"]) ?? ["application/json"],
            parameters: swagger["parameters"]?.objectValue ?? JSONObject(),
            responses: swagger["responses"]?.objectValue ?? JSONObject())
        var out = JSONObject()
        out["openapi"] = "3.0.3"
        out["info"] = swagger["info"] ?? .null
        if let servers = servers(of: swagger) { out["servers"] = servers }
        out["paths"] = .object(try paths(swagger["paths"], context: context))
        var components = JSONObject()
        if let definitions = swagger["definitions"] { components["schemas"] = schema(definitions) }
        if let definitions = swagger["securityDefinitions"] {
            components["securitySchemes"] = .object(try securitySchemes(definitions))
        }
        if !components.isEmpty { out["components"] = .object(components) }
        for key in ["security", "tags", "externalDocs"] { out[key] = swagger[key] }
        for (key, value) in swagger where key.hasPrefix("x-") { out[key] = value }
        return out
    }

    /// What operations inherit from the document: media types and the shared parameters and responses.
    struct Context {
        var consumes: [String]
        var produces: [String]
        var parameters: JSONObject
        var responses: JSONObject
    }

    /// `schemes[0]://host/basePath` first, one server per scheme; a document without `host` gets a relative
    /// server (`basePath`) which the converter does not use as an endpoint. Without `schemes`: `https`.
    static func servers(of swagger: JSONObject) -> JSONValue? {
        var basePath = swagger["basePath"]?.stringValue ?? ""
        if basePath == "/" { basePath = "" }
        guard let host = swagger["host"]?.stringValue, !host.isEmpty else {
            return basePath.isEmpty ? nil : [["url": .string(basePath)]]
        }
        let schemes = strings(swagger["schemes"]).flatMap { $0.isEmpty ? nil : $0 } ?? ["https"]
        return .array(schemes.map { ["url": .string("\($0)://\(host)\(basePath)")] })
    }

    private static func paths(_ value: JSONValue?, context: Context) throws(APKError) -> JSONObject {
        guard let value else { return JSONObject() }
        guard case .object(let paths) = value else {
            throw OpenAPIProblems.invalid(at: "paths", "must be an object, found \(value.typeName)")
        }
        var out = JSONObject()
        for (key, item) in paths {
            guard case .object(let item) = item else {
                if key.hasPrefix("x-") { continue }
                throw OpenAPIProblems.invalid(
                    at: OpenAPIProblems.member("paths", key), "must be an object, found \(item.typeName)")
            }
            out[key] = .object(try pathItem(item, key: key, context: context))
        }
        return out
    }

    private static func pathItem(_ item: JSONObject, key: String, context: Context) throws(APKError) -> JSONObject {
        let location = OpenAPIProblems.member("paths", key)
        let shared = try resolvedParameters(item["parameters"], at: location, context: context)
        var out = JSONObject()
        let plain = shared.filter { !["body", "formData"].contains($0["in"]?.stringValue ?? "") }
        if !plain.isEmpty { out["parameters"] = .array(plain.map { .object(parameter($0)) }) }
        for (member, value) in item {
            if methods.contains(member), case .object(let operation) = value {
                out[member] = .object(
                    try self.operation(operation, shared: shared, at: "\(location).\(member)", context: context))
            } else if member.hasPrefix("x-") {
                out[member] = value
            } else if methods.contains(member) {
                throw OpenAPIProblems.invalid(at: "\(location).\(member)", "must be an object, found \(value.typeName)")
            }
        }
        return out
    }

    private static func operation(
        _ operation: JSONObject, shared: [JSONObject], at location: String, context: Context
    ) throws(APKError) -> JSONObject {
        var out = JSONObject()
        for key in ["tags", "summary", "description", "externalDocs", "operationId"] { out[key] = operation[key] }
        let consumes = strings(operation["consumes"]) ?? context.consumes
        let produces = strings(operation["produces"]) ?? context.produces
        let own = try resolvedParameters(operation["parameters"], at: location, context: context)
        let ownKeys = Set(own.map(parameterKey))
        let all = own + shared.filter { !ownKeys.contains(parameterKey($0)) }
        let plain = own.filter { !["body", "formData"].contains($0["in"]?.stringValue ?? "") }
        if !plain.isEmpty { out["parameters"] = .array(plain.map { .object(parameter($0)) }) }
        if let body = requestBody(all, consumes: consumes) { out["requestBody"] = .object(body) }
        out["responses"] = try responses(operation["responses"], produces: produces, at: location, context: context)
        for key in ["deprecated", "security"] { out[key] = operation[key] }
        for (key, value) in operation where key.hasPrefix("x-") { out[key] = value }
        return out
    }

    private static func parameterKey(_ parameter: JSONObject) -> String {
        "\(parameter["in"]?.stringValue ?? "") \(parameter["name"]?.stringValue ?? "")"
    }

    /// The parameters of a list with `#/parameters/<name>` references inlined.
    private static func resolvedParameters(
        _ value: JSONValue?, at location: String, context: Context
    ) throws(APKError) -> [JSONObject] {
        guard let value else { return [] }
        guard case .array(let list) = value else {
            throw OpenAPIProblems.invalid(at: "\(location).parameters", "must be an array, found \(value.typeName)")
        }
        var out: [JSONObject] = []
        for (i, element) in list.enumerated() {
            let at = "\(location).parameters[\(i)]"
            guard case .object(let parameter) = element else {
                throw OpenAPIProblems.invalid(at: at, "must be an object, found \(element.typeName)")
            }
            out.append(try resolve(parameter, prefix: "#/parameters/", in: context.parameters, at: at))
        }
        return out
    }

    /// Follows a local `$ref` (`#/parameters/x`, `#/responses/x`) into the document's shared objects.
    static func resolve(
        _ object: JSONObject, prefix: String, in shared: JSONObject, at location: String
    ) throws(APKError) -> JSONObject {
        guard let ref = object["$ref"]?.stringValue else { return object }
        guard ref.hasPrefix(prefix), case .object(let target)? = shared[String(ref.dropFirst(prefix.count))] else {
            throw OpenAPIProblems.invalid(
                at: location, "the reference \(OpenAPIProblems.shorten(ref, to: 120)) cannot be resolved")
        }
        return target
    }

    static func strings(_ value: JSONValue?) -> [String]? {
        guard case .array(let elements)? = value else { return nil }
        return elements.compactMap(\.stringValue)
    }
}
