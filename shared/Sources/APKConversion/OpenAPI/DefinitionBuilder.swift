import APKModel
/// The OpenAPI 3 definition stored with a deployed REST API (§5.2), built as an ordered ``JSONValue`` tree.
///
/// Paths and methods the apk-conf does not list are dropped; conf operations the document lacks get a minimal
/// operation (a `200` response and their path parameters). Every kept operation's `security` is replaced: secured
/// operations require the scheme `default` (OAuth2, implicit flow, authorizationUrl `https://test.com`, declaring
/// every scope used) with the conf's scopes; unsecured ones get `security: []`. Document-level `security` is removed.
enum DefinitionBuilder {
    static let schemeName = "default"
    static let authorizationURL = "https://test.com"
    /// Every OpenAPI path-item method key (3.0 / 3.1).
    static let methodKeys: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// A whole minimal OpenAPI 3.0.3 document for a conf supplied without a definition.
    static func generate(_ conf: ApkConf) -> JSONObject {
        var document = JSONObject()
        document["openapi"] = "3.0.3"
        document["info"] = ["title": .string(conf.name), "version": .string(conf.version)]
        if case .url(let url)? = conf.endpointConfigurations?.production?.first?.endpoint,
            OpenAPIConverter.isEndpointURL(url)
        {
            document["servers"] = [["url": .string(url)]]
        }
        document["paths"] = .object(JSONObject())
        return regenerate(document, conf: conf)
    }

    /// `source` (OpenAPI 3.0 / 3.1 form) reduced and extended to exactly the conf's operations.
    static func regenerate(_ source: JSONObject, conf: ApkConf) -> JSONObject {
        var document = source
        let (targets, byTarget) = group(conf.operations)
        let pathItemComponents = source["components"]?["pathItems"]?.objectValue ?? JSONObject()
        var paths = JSONObject()
        for (key, value) in source["paths"]?.objectValue ?? JSONObject() {
            guard let operations = byTarget[key], case .object(let item) = value else { continue }
            paths[key] = .object(pathItem(resolved(item, in: pathItemComponents), key: key, operations: operations))
        }
        for target in targets where paths[target] == nil {
            paths[target] = .object(pathItem(JSONObject(), key: target, operations: byTarget[target] ?? []))
        }
        document["paths"] = .object(paths)
        document["security"] = nil
        let scopes = usedScopes(conf.operations)
        if conf.operations.contains(where: \.secured) {
            var components = document["components"]?.objectValue ?? JSONObject()
            var schemes = components["securitySchemes"]?.objectValue ?? JSONObject()
            schemes[schemeName] = defaultScheme(scopes: scopes, describedBy: schemes)
            components["securitySchemes"] = .object(schemes)
            document["components"] = .object(components)
        }
        return document
    }

    /// Conf operations grouped by target; targets in order of first appearance.
    private static func group(_ operations: [ApkConf.Operation]) -> ([String], [String: [ApkConf.Operation]]) {
        var targets: [String] = []
        var byTarget: [String: [ApkConf.Operation]] = [:]
        for operation in operations {
            if byTarget[operation.target] == nil { targets.append(operation.target) }
            byTarget[operation.target, default: []].append(operation)
        }
        return (targets, byTarget)
    }

    /// A path item whose `$ref` points into `components.pathItems`, inlined (the item's own members win).
    private static func resolved(_ item: JSONObject, in components: JSONObject) -> JSONObject {
        let prefix = "#/components/pathItems/"
        guard let ref = item["$ref"]?.stringValue, ref.hasPrefix(prefix),
            case .object(var target)? = components[String(ref.dropFirst(prefix.count))]
        else { return item }
        for (key, value) in item where key != "$ref" { target[key] = value }
        return target
    }

    private static func pathItem(_ existing: JSONObject, key: String, operations: [ApkConf.Operation]) -> JSONObject {
        var item = existing
        let listed = Set(operations.map { $0.verb.lowercased() })
        for method in item.keys where methodKeys.contains(method) && !listed.contains(method) { item[method] = nil }
        for operation in operations {
            let method = operation.verb.lowercased()
            var object = item[method]?.objectValue ?? newOperation(key: key, pathItem: item)
            object["security"] = security(operation)
            item[method] = .object(object)
        }
        return item
    }

    /// A minimal operation: the path parameters the path item does not declare, and a `200` response.
    private static func newOperation(key: String, pathItem: JSONObject) -> JSONObject {
        let declared = Set(
            (pathItem["parameters"]?.arrayValue ?? []).compactMap { parameter in
                parameter["in"] == "path" ? parameter["name"]?.stringValue : nil
            })
        let missing = PathTemplate.parameters(in: key).filter { !declared.contains($0) }
        var operation = JSONObject()
        if !missing.isEmpty {
            operation["parameters"] = .array(
                missing.map { ["name": .string($0), "in": "path", "required": true, "schema": ["type": "string"]] })
        }
        operation["responses"] = ["200": ["description": "OK"]]
        return operation
    }

    private static func security(_ operation: ApkConf.Operation) -> JSONValue {
        guard operation.secured else { return [] }
        return [[schemeName: .array((operation.scopes ?? []).map(JSONValue.string))]]
    }

    /// Scopes of secured operations, in order of first use.
    private static func usedScopes(_ operations: [ApkConf.Operation]) -> [String] {
        var seen: Set<String> = []
        var scopes: [String] = []
        for operation in operations where operation.secured {
            for scope in operation.scopes ?? [] where seen.insert(scope).inserted { scopes.append(scope) }
        }
        return scopes
    }

    /// The `default` scheme; each scope keeps the description some OAuth2 scheme of the document gives it.
    private static func defaultScheme(scopes: [String], describedBy schemes: JSONObject) -> JSONValue {
        var declared = JSONObject()
        for scope in scopes { declared[scope] = .string(description(of: scope, in: schemes) ?? "") }
        return [
            "type": "oauth2",
            "flows": ["implicit": ["authorizationUrl": .string(authorizationURL), "scopes": .object(declared)]],
        ]
    }

    private static func description(of scope: String, in schemes: JSONObject) -> String? {
        let ordered = [schemes[schemeName]].compactMap { $0 } + schemes.entries.map(\.value)
        for scheme in ordered where scheme["type"] == "oauth2" {
            for (_, flow) in scheme["flows"]?.objectValue ?? JSONObject() {
                if let text = flow["scopes"]?[scope]?.stringValue { return text }
            }
        }
        return nil
    }
}
