import APKModel
/// Swagger 2.0 parameters, bodies, responses, schemas and security definitions in their OpenAPI 3.0 form.
extension SwaggerConverter {
    /// Fields of a Swagger non-body parameter (and of `items` / headers) that form its OpenAPI 3 `schema`.
    private static let schemaFields = [
        "type", "format", "items", "default", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
        "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "enum", "multipleOf",
    ]

    /// A query, header or path parameter: the type fields move into `schema`.
    static func parameter(_ parameter: JSONObject) -> JSONObject {
        var out = JSONObject()
        for key in ["name", "in", "description", "required", "allowEmptyValue"] { out[key] = parameter[key] }
        if parameter["in"]?.stringValue == "query" {
            switch parameter["collectionFormat"]?.stringValue {
            case "multi": out["style"] = "form"; out["explode"] = true
            case "csv": out["style"] = "form"; out["explode"] = false
            case "ssv": out["style"] = "spaceDelimited"
            case "pipes": out["style"] = "pipeDelimited"
            default: break
            }
        }
        out["schema"] = .object(simpleSchema(parameter))
        for (key, value) in parameter where key.hasPrefix("x-") { out[key] = value }
        return out
    }

    /// The schema of a non-body parameter, header or `items` object.
    private static func simpleSchema(_ object: JSONObject) -> JSONObject {
        var out = JSONObject()
        for key in schemaFields {
            guard let value = object[key] else { continue }
            if key == "items", case .object(let items) = value {
                out[key] = .object(simpleSchema(items))
            } else {
                out[key] = value
            }
        }
        if out["type"]?.stringValue == "file" {
            out["type"] = "string"
            out["format"] = "binary"
        }
        return out
    }

    /// The request body from `in: body` (one schema per `consumes` type) or `in: formData` parameters.
    static func requestBody(_ parameters: [JSONObject], consumes: [String]) -> JSONObject? {
        let mediaTypes = consumes.isEmpty ? ["application/json"] : consumes
        if let body = parameters.first(where: { $0["in"]?.stringValue == "body" }) {
            var out = JSONObject()
            out["description"] = body["description"]
            let media: JSONValue = ["schema": schema(body["schema"] ?? [:])]
            out["content"] = .object(JSONObject(mediaTypes.map { ($0, media) }))
            out["required"] = body["required"]
            return out
        }
        let form = parameters.filter { $0["in"]?.stringValue == "formData" }
        guard !form.isEmpty else { return nil }
        var properties = JSONObject()
        var required: [JSONValue] = []
        for field in form {
            guard let name = field["name"]?.stringValue else { continue }
            var property = simpleSchema(field)
            property["description"] = field["description"]
            properties[name] = .object(property)
            if field["required"] == .bool(true) { required.append(.string(name)) }
        }
        var formSchema = JSONObject([("type", "object"), ("properties", .object(properties))])
        if !required.isEmpty { formSchema["required"] = .array(required) }
        let multipart = mediaTypes.contains("multipart/form-data") || form.contains { $0["type"] == "file" }
        let mediaType = multipart ? "multipart/form-data" : "application/x-www-form-urlencoded"
        return JSONObject([("content", .object(JSONObject([(mediaType, ["schema": .object(formSchema)])])))])
    }

    /// The responses object: schemas become content for each `produces` type; `#/responses/…` refs inlined.
    static func responses(
        _ value: JSONValue?, produces: [String], at location: String, context: Context
    ) throws(APKError) -> JSONValue? {
        guard let value else { return nil }
        guard case .object(let responses) = value else { return value }
        var out = JSONObject()
        for (code, response) in responses {
            guard case .object(let object) = response else {
                out[code] = response
                continue
            }
            let at = "\(location).responses.\(code)"
            let resolved = try resolve(object, prefix: "#/responses/", in: context.responses, at: at)
            out[code] = .object(self.response(resolved, produces: produces))
        }
        return .object(out)
    }

    private static func response(_ response: JSONObject, produces: [String]) -> JSONObject {
        var out = JSONObject()
        out["description"] = response["description"] ?? ""
        if case .object(let headers)? = response["headers"] {
            out["headers"] = .object(
                JSONObject(
                    headers.entries.map { name, header in
                        let object = header.objectValue ?? JSONObject()
                        var converted = JSONObject()
                        converted["description"] = object["description"]
                        converted["schema"] = .object(simpleSchema(object))
                        return (name, .object(converted))
                    }))
        }
        if let schema = response["schema"] {
            let examples = response["examples"]?.objectValue
            let mediaTypes = produces.isEmpty ? ["application/json"] : produces
            out["content"] = .object(
                JSONObject(
                    mediaTypes.map { type in
                        var media = JSONObject([("schema", self.schema(schema))])
                        media["example"] = examples?[type]
                        return (type, .object(media))
                    }))
        }
        for (key, value) in response where key.hasPrefix("x-") { out[key] = value }
        return out
    }

    /// A Swagger schema in OpenAPI 3.0 form: `#/definitions/` refs renamed, `type: file` → binary string,
    /// string `discriminator` → `{propertyName}`, `x-nullable` → `nullable`. Example values are left alone.
    static func schema(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let elements): return .array(elements.map(schema))
        case .object(let object):
            var out = JSONObject()
            for (key, member) in object {
                switch (key, member) {
                case ("$ref", .string(let ref)) where ref.hasPrefix("#/definitions/"):
                    out[key] = .string("#/components/schemas/" + ref.dropFirst("#/definitions/".count))
                case ("discriminator", .string(let property)): out[key] = ["propertyName": .string(property)]
                case ("x-nullable", _): out["nullable"] = member
                case ("example", _), ("default", _), ("enum", _): out[key] = member
                case _ where key.hasPrefix("x-"): out[key] = member
                default: out[key] = schema(member)
                }
            }
            if out["type"] == "file" {
                out["type"] = "string"
                out["format"] = "binary"
            }
            return .object(out)
        default: return value
        }
    }

    /// `securityDefinitions` → `securitySchemes`.
    static func securitySchemes(_ value: JSONValue) throws(APKError) -> JSONObject {
        guard case .object(let definitions) = value else {
            throw OpenAPIProblems.invalid(at: "securityDefinitions", "must be an object, found \(value.typeName)")
        }
        var out = JSONObject()
        for (name, definition) in definitions {
            let at = OpenAPIProblems.member("securityDefinitions", name)
            guard case .object(let definition) = definition else {
                throw OpenAPIProblems.invalid(at: at, "must be an object, found \(definition.typeName)")
            }
            out[name] = .object(try securityScheme(definition, at: at))
        }
        return out
    }

    private static func securityScheme(_ definition: JSONObject, at location: String) throws(APKError) -> JSONObject {
        var out = JSONObject()
        switch definition["type"]?.stringValue {
        case "basic":
            out["type"] = "http"
            out["scheme"] = "basic"
        case "apiKey":
            out["type"] = "apiKey"
            out["name"] = definition["name"]
            out["in"] = definition["in"]
        case "oauth2":
            out["type"] = "oauth2"
            out["flows"] = .object(try oauthFlows(definition, at: location))
        default:
            throw OpenAPIProblems.invalid(at: "\(location).type", "must be basic, apiKey or oauth2")
        }
        out["description"] = definition["description"]
        for (key, value) in definition where key.hasPrefix("x-") { out[key] = value }
        return out
    }

    private static func oauthFlows(_ definition: JSONObject, at location: String) throws(APKError) -> JSONObject {
        let names = ["implicit": "implicit", "password": "password", "application": "clientCredentials",
                     "accessCode": "authorizationCode"]
        guard let swaggerFlow = definition["flow"]?.stringValue, let flowName = names[swaggerFlow] else {
            throw OpenAPIProblems.invalid(at: "\(location).flow", "must be implicit, password, application or accessCode")
        }
        var flow = JSONObject()
        flow["authorizationUrl"] = definition["authorizationUrl"]
        flow["tokenUrl"] = definition["tokenUrl"]
        flow["scopes"] = definition["scopes"] ?? [:]
        return JSONObject([(flowName, .object(flow))])
    }
}
