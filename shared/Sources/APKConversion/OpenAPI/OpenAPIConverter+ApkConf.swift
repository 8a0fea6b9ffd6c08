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

    static func apkConf(from model: OpenAPIModel, apiType: ApkConf.APIType) throws(APKError) -> ApkConf {
        var conf = ApkConf(
            name: model.title, basePath: basePath(title: model.title, version: model.version),
            version: model.version, type: apiType)
        if let url = model.servers.first.flatMap(endpointURL) {
            conf.endpointConfigurations = EndpointConfigurations(production: [EndpointConfiguration(endpoint: .url(url))])
        }
        var problems = ProblemCollector()
        var operations: [ApkConf.Operation] = []
        for (key, item) in model.paths {
            for (verb, operation) in Self.operations(of: item) {
                let location = OpenAPIProblems.member("paths", key) + "." + verb.lowercased()
                let scopes = problems.attempt { () throws(APKError) in
                    try Self.scopes(of: operation, in: model, at: location)
                }
                var converted = ApkConf.Operation(target: key, verb: verb, secured: true, scopes: scopes ?? nil)
                if let server = operation.servers?.first ?? item.servers?.first, let url = endpointURL(server) {
                    converted.endpointConfigurations = EndpointConfigurations(
                        production: [EndpointConfiguration(endpoint: .url(url))])
                }
                operations.append(converted)
            }
        }
        try problems.throwIfAny()
        guard !operations.isEmpty else {
            throw OpenAPIProblems.invalid(at: "paths", "the definition has no operations (get, put, post, delete, "
                + "patch, head or options)")
        }
        conf.operations = operations
        return conf
    }

    /// The OAuth2 scopes the operation's security requirements (else the document's) name, in order, without
    /// repeats; empty when there are none — the reference writes `scopes: []` on every generated operation (its
    /// config-deployer-service test `expectedAPK.apk-conf`). A scope its OAuth2 scheme does not declare is an error.
    static func scopes(
        of operation: OpenAPI.Operation, in model: OpenAPIModel, at location: String
    ) throws(APKError) -> [String]? {
        var scopes: [String] = []
        for requirement in operation.security ?? model.security {
            for (schemeName, names) in ordered(requirement, schemes: model.securitySchemes) {
                guard let scheme = model.securitySchemes.first(where: { $0.name == schemeName })?.scheme,
                    case .oauth2(let flows, _) = scheme.type
                else { continue }
                let declared = declaredScopes(flows)
                for scope in names where !scopes.contains(scope) {
                    guard declared.contains(scope) else {
                        throw OpenAPIProblems.invalid(
                            at: "\(location).security",
                            "the scope \(OpenAPIProblems.shorten(scope, to: 80)) is not declared in the flows of the "
                                + "security scheme \(OpenAPIProblems.shorten(schemeName, to: 80))")
                    }
                    scopes.append(scope)
                }
            }
        }
        return scopes
    }

    /// A requirement's entries (a Swift dictionary) in the order of `components.securitySchemes`, then by name.
    private static func ordered(
        _ requirement: OpenAPI.SecurityRequirement, schemes: [(name: String, scheme: OpenAPI.SecurityScheme)]
    ) -> [(name: String, scopes: [String])] {
        let entries = requirement.compactMap { reference, scopes in reference.name.map { (name: $0, scopes: scopes) } }
        func rank(_ name: String) -> Int { schemes.firstIndex { $0.name == name } ?? schemes.count }
        return entries.sorted { (rank($0.name), $0.name) < (rank($1.name), $1.name) }
    }

    private static func declaredScopes(_ flows: OpenAPI.OAuthFlows) -> Set<String> {
        var declared: Set<String> = []
        for scopes in [
            flows.implicit?.scopes, flows.password?.scopes, flows.clientCredentials?.scopes,
            flows.authorizationCode?.scopes, flows.deviceAuthorization?.scopes,
        ] {
            declared.formUnion(scopes?.keys ?? [])
        }
        return declared
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
