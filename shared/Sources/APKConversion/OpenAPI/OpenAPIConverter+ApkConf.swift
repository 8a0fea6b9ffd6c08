import APKModel
import Foundation
import OpenAPIKit

/// The §5.1 mapping from a decoded OpenAPI document to an apk-conf.
extension OpenAPIConverter {
    /// `"/" + base64(title + version)`: standard alphabet over UTF-8, trailing `=` removed (§5.1).
    ///
    /// Decision (ours): `+` becomes `-`, because the apk-conf basePath pattern `^/[a-zA-Z0-9~/_.{}\-]*$` rejects `+`
    /// (the reference would produce an undeployable basePath). `/` is kept: the pattern allows it.
    package static func basePath(title: String, version: String) -> String {
        var encoded = Data((title + version).utf8).base64EncodedString()
        while encoded.hasSuffix("=") { encoded.removeLast() }
        return "/" + encoded.replacingOccurrences(of: "+", with: "-")
    }

    /// The methods an apk-conf operation can have, in the order operations are listed within a path.
    static func operations(of item: OpenAPI.PathItem) -> [(verb: String, operation: OpenAPI.Operation)] {
        let candidates: [(String, OpenAPI.Operation?)] = [
            ("GET", item.get), ("PUT", item.put), ("POST", item.post), ("DELETE", item.delete),
            ("PATCH", item.patch), ("HEAD", item.head), ("OPTIONS", item.options),
        ]
        return candidates.compactMap { verb, operation in operation.map { (verb: verb, operation: $0) } }
    }

    /// The reference's generation (wso2/apk config-deployer-service `ConfigGeneratorClient` → `OAS3Parser` →
    /// `APIClient.fromAPIModelToAPKConf`), with the differences of docs/decisions.md "Reference parity":
    /// - only the first document-level server becomes the production endpoint; path- and operation-level `servers`
    ///   are ignored (the reference deletes them before parsing);
    /// - when a `servers` key appears anywhere under `paths`, the reference re-serialises the document with map
    ///   keys sorted, so its operations come in path-key order (Java string order, UTF-16 code units);
    /// - a document without operations gives `operations: []` (deploying it is then refused with 909021).
    static func apkConf(from model: OpenAPIModel, apiType: ApkConf.APIType) throws(APKError) -> ApkConf {
        var conf = ApkConf(
            name: model.title, basePath: basePath(title: model.title, version: model.version),
            version: model.version, type: apiType)
        if let url = model.servers.first.flatMap(endpointURL) {
            conf.endpointConfigurations = EndpointConfigurations(production: [EndpointConfiguration(endpoint: .url(url))])
        }
        let declared = declaredScopes(model)
        var paths = model.paths
        if model.rawPathItems.values.contains(where: mentionsServers) {
            paths.sort { $0.key.utf16.lexicographicallyPrecedes($1.key.utf16) }
        }
        var problems = ProblemCollector()
        var operations: [ApkConf.Operation] = []
        for (key, item) in paths {
            for (verb, operation) in Self.operations(of: item) {
                let location = OpenAPIProblems.member("paths", key) + "." + verb.lowercased()
                let raw = model.rawPathItems[key]?[verb.lowercased()]
                let scopes = problems.attempt { () throws(APKError) in
                    try Self.scopes(of: operation, xScope: raw?["x-scope"]?.stringValue, declared: declared, at: location)
                }
                operations.append(ApkConf.Operation(target: key, verb: verb, secured: true, scopes: scopes ?? []))
            }
        }
        try problems.throwIfAny()
        conf.operations = operations
        return conf
    }

    /// The operation's scopes as the reference reads them (`OAS3Parser.getScopeOfOperations`): only the operation's
    /// own `security` counts (document- and path-level requirements are ignored); the first requirement naming the
    /// scheme `default`, else the `x-scope` extension (comma-separated), else the first requirement naming
    /// `OAuth2Security`. Order and repeats are kept, blank names skipped. A scope outside the API's declared set is an
    /// error — 400 / 90091 here, where the reference answers 500 / 909022.
    static func scopes(
        of operation: OpenAPI.Operation, xScope: String?, declared: Set<String>, at location: String
    ) throws(APKError) -> [String] {
        let requirements = operation.security ?? []
        func scopes(of scheme: String) -> [String]? {
            requirements.lazy.compactMap { requirement in
                requirement.first { $0.key.name == scheme }?.value
            }.first
        }
        let named: [String]
        if let fromDefault = scopes(of: "default") {
            named = fromDefault
        } else if let xScope, !xScope.isEmpty {
            named = xScope.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        } else {
            named = scopes(of: "OAuth2Security") ?? []
        }
        let result = named.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        for scope in result where !declared.contains(scope) {
            throw OpenAPIProblems.invalid(
                at: "\(location).security",
                "the scope \(OpenAPIProblems.shorten(scope, to: 80)) is not declared (the scopes of the security "
                    + "scheme default's implicit flow, else of OAuth2Security's password flow)")
        }
        return result
    }

    /// The API-wide declared scopes (`OAS3Parser.getScopes`): `components.securitySchemes.default` implicit flow,
    /// else `OAuth2Security` password flow, else none.
    static func declaredScopes(_ model: OpenAPIModel) -> Set<String> {
        func flows(_ name: String) -> OpenAPI.OAuthFlows? {
            guard let scheme = model.securitySchemes.first(where: { $0.name == name })?.scheme,
                case .oauth2(let flows, _) = scheme.type
            else { return nil }
            return flows
        }
        if let implicit = flows("default")?.implicit { return Set(implicit.scopes.keys) }
        if let password = flows("OAuth2Security")?.password { return Set(password.scopes.keys) }
        return []
    }

    /// True when a `servers` key appears in this value at any depth (the reference strips each one, which re-sorts
    /// the whole document).
    static func mentionsServers(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let object): object.entries.contains { $0.key == "servers" || mentionsServers($0.value) }
        case .array(let elements): elements.contains(where: mentionsServers)
        default: false
        }
    }

    /// The server's URL with variables replaced by their defaults, when it can be an endpoint: an absolute
    /// `http`, `https`, `ws` or `wss` URL (the apk-conf endpoint pattern). Relative URLs (`/v1`) give nil.
    static func endpointURL(_ server: OpenAPI.Server) -> String? {
        var url = ""
        for component in server.urlTemplate.components {
            switch component {
            case .constant(let text): url += text
            case .variable(let name):
                guard let value = server.variables[name]?.default else { return nil }
                url += value
            }
        }
        return isEndpointURL(url) ? url : nil
    }

    /// True for URLs matching the apk-conf endpoint pattern `^(?i)(https?|wss?)://[^\s/?#]+[^\s]*$`.
    static func isEndpointURL(_ url: String) -> Bool {
        let lower = url.lowercased()
        guard let scheme = ["http://", "https://", "ws://", "wss://"].first(where: { lower.hasPrefix($0) }),
            let first = url.dropFirst(scheme.count).first, !"/?#".contains(first)
        else { return false }
        return !url.contains(where: \.isWhitespace)
    }
}
