import APKAdapter
import APKModel
import APKStore
import APKTestSupport
import EnvoyProtos
import Foundation
import SwiftProtobuf
import APKConversion

/// Reading CR streams from fixtures and rendering translator output for golden files.
enum AdapterFixtures {
    /// The resources of a `---`-separated YAML stream (empty and comment-only documents skipped).
    static func resources(_ relativePath: String) throws -> [K8sResource] {
        let text = try Fixtures.text(relativePath)
        var documents: [[Substring]] = [[]]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "---" { documents.append([]) } else { documents[documents.count - 1].append(line) }
        }
        return try documents.compactMap { lines in
            let content = lines.filter { line in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                return !trimmed.isEmpty && !trimmed.hasPrefix("#")
            }
            guard !content.isEmpty else { return nil }
            let value = try DocumentParser().parse(Data(lines.joined(separator: "\n").utf8))
            guard value.objectValue != nil else { return nil }
            return try StoredContent.resource(fromObject: value)
        }
    }

    /// The settings golden files are rendered with (fixed paths, both listeners, default system upstreams). The
    /// gateway's default CORS is off here, so that each golden file shows its own feature: an API's own CORS policy
    /// still applies, and the default is covered by `CORSCompilationTests` and through Envoy by `CORSTests`.
    static var settings: XDSSettings {
        var settings = XDSSettings()
        settings.tls = XDSSettings.ListenerTLS(certificatePath: "/certs/gateway.crt", keyPath: "/certs/gateway.key")
        settings.corsDefault = nil
        return settings
    }

    /// Envoy JSON (proto field names, `Any` expanded) of a message, pretty-printed with sorted keys.
    static func json(_ message: some Message) throws -> JSONValue {
        registerAnyTypes
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        options.useDeterministicOrdering = true
        let text = try message.jsonString(options: options)
        return StoredContent.canonical(try JSONParser.parse(Array(text.utf8)))
    }

    static let registerAnyTypes: Void = {
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Http_Router_V3_Router.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Http_Ratelimit_V3_RateLimit.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtAuthentication.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Http_JwtAuthn_V3_PerRouteConfig.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Http_Rbac_V3_RBAC.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Http_Rbac_V3_RBACPerRoute.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Http_EarlyHeaderMutation_HeaderMutation_V3_HeaderMutation.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Http_Cors_V3_Cors.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Http_Lua_V3_Lua.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Http_Lua_V3_LuaPerRoute.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Http_Cors_V3_CorsPolicy.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Http_ExtAuthz_V3_ExtAuthz.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Http_ExtAuthz_V3_ExtAuthzPerRoute.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Http_HeaderMutation_V3_HeaderMutation.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Http_HeaderMutation_V3_HeaderMutationPerRoute.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_AccessLoggers_Filters_Cel_V3_ExpressionFilter.self)
        Google_Protobuf_Any.register(messageType: Envoy_Type_Matcher_V3_HttpRequestHeaderMatchInput.self)
        Google_Protobuf_Any.register(messageType: Envoy_Config_Rbac_V3_Action.self)
        Google_Protobuf_Any.register(messageType: Envoy_Config_Core_V3_TypedExtensionConfig.self)
    }()

    /// A bundle for the in-memory store: the API CR named `api` and every other resource of the stream whose name
    /// does not belong to another API of the stream (fixtures keep each API's resources prefixed by its name, or are
    /// single-API streams).
    static func bundle(_ resources: [K8sResource], api: String, organization: String) -> CRBundle {
        let apis = Set(resources.filter { $0.kind == "API" }.map(\.name))
        let mine = resources.filter { resource in
            if resource.kind == "API" { return resource.name == api }
            if apis.count == 1 { return true }
            return resource.name.hasPrefix(api)
        }
        return CRBundle(apiID: api, organization: organization, resources: mine)
    }
}
