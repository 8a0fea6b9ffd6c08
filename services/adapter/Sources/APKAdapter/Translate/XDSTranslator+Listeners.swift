package import EnvoyProtos
import Foundation
import SwiftProtobuf

// The gateway listeners and their HTTP connection manager.
extension XDSTranslator {
    /// The gateway listeners: HTTPS (only with a certificate) and HTTP, both with the same HTTP connection manager.
    package static func listeners(
        settings: XDSSettings, encoder: ProtoEncoder = .deterministic
    ) throws -> [Envoy_Config_Listener_V3_Listener] {
        var listeners: [Envoy_Config_Listener_V3_Listener] = []
        if let tls = settings.tls {
            var context = Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext()
            var certificate = Envoy_Extensions_TransportSockets_Tls_V3_TlsCertificate()
            certificate.certificateChain.filename = tls.certificatePath
            certificate.privateKey.filename = tls.keyPath
            context.commonTlsContext.tlsCertificates = [certificate]
            context.commonTlsContext.alpnProtocols = ["h2", "http/1.1"]
            var socket = Envoy_Config_Core_V3_TransportSocket()
            socket.name = "envoy.transport_sockets.tls"
            socket.typedConfig = try AnyPacking.pack(context, encoder: encoder)
            listeners.append(
                try listener(name: settings.httpsListenerName, port: settings.httpsPort, scheme: "https",
                             transportSocket: socket, settings: settings, encoder: encoder))
        }
        if let port = settings.httpPort {
            listeners.append(
                try listener(name: settings.httpListenerName(port), port: port, scheme: "http", transportSocket: nil,
                             settings: settings, encoder: encoder))
        }
        return listeners
    }

    static func listener(
        name: String, port: Int, scheme: String, transportSocket: Envoy_Config_Core_V3_TransportSocket?,
        settings: XDSSettings, encoder: ProtoEncoder
    ) throws -> Envoy_Config_Listener_V3_Listener {
        var hcm = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
        hcm.statPrefix = "\(scheme)_\(port)"
        hcm.codecType = .auto
        var source = Envoy_Config_Core_V3_ConfigSource()
        source.ads = Envoy_Config_Core_V3_AggregatedConfigSource()
        source.resourceApiVersion = .v3
        var scoped = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ScopedRoutes()
        scoped.name = settings.routeConfigName
        var fragment = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ScopedRoutes.ScopeKeyBuilder.FragmentBuilder()
        fragment.headerValueExtractor.name = ScopedRouting.pathHeader
        fragment.headerValueExtractor.elementSeparator = "/"
        fragment.headerValueExtractor.index = 1
        scoped.scopeKeyBuilder.fragments = [fragment]
        scoped.rdsConfigSource = source
        scoped.scopedRds.scopedRdsConfigSource = source
        hcm.scopedRoutes = scoped
        // Before route selection: the path without its query, for the scope key (`/pets?x=1` must key `pets`).
        var copyPath = Envoy_Config_Common_MutationRules_V3_HeaderMutation()
        copyPath.append.header.key = ScopedRouting.pathHeader
        copyPath.append.header.value = "%PATH(NQ)%"
        copyPath.append.appendAction = .overwriteIfExistsOrAdd
        // Before anything reads them: no client decides what the gateway's own `x-apk-*` headers say.
        var dropInternal = Envoy_Config_Common_MutationRules_V3_HeaderMutation()
        dropInternal.removeOnMatch.keyMatcher.prefix = "x-apk-"
        var earlyMutation = Envoy_Extensions_Http_EarlyHeaderMutation_HeaderMutation_V3_HeaderMutation()
        earlyMutation.mutations = [dropInternal, copyPath]
        var early = Envoy_Config_Core_V3_TypedExtensionConfig()
        early.name = "envoy.http.early_header_mutation.header_mutation"
        early.typedConfig = try AnyPacking.pack(earlyMutation, encoder: encoder)
        hcm.earlyHeaderMutationExtensions = [early]
        var router = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        router.name = "envoy.filters.http.router"
        router.typedConfig = try AnyPacking.pack(Envoy_Extensions_Filters_Http_Router_V3_Router(), encoder: encoder)
        hcm.httpFilters = [try corsFilter(encoder: encoder)] + (try authFilters(settings: settings, encoder: encoder))
            + (try settings.rateLimiter.map {
                ($0.localShare == nil ? [] : localShareFilters()) + [try rateLimitFilter($0, encoder: encoder)]
            } ?? [])
            + [try responderFilter(encoder: encoder), router]
        hcm.localReplyConfig = try LocalReplies.config(enforcement: settings.auth.enforcement)
        hcm.streamIdleTimeout = Google_Protobuf_Duration(seconds: 300)
        hcm.commonHTTPProtocolOptions.idleTimeout = Google_Protobuf_Duration(seconds: 3600)
        hcm.useRemoteAddress = Google_Protobuf_BoolValue(true)

        var filter = Envoy_Config_Listener_V3_Filter()
        filter.name = "envoy.filters.network.http_connection_manager"
        filter.typedConfig = try AnyPacking.pack(hcm, encoder: encoder)
        var chain = Envoy_Config_Listener_V3_FilterChain()
        chain.filters = [filter]
        if let transportSocket { chain.transportSocket = transportSocket }
        var listener = Envoy_Config_Listener_V3_Listener()
        listener.name = name
        listener.address.socketAddress.address = settings.listenerAddress
        listener.address.socketAddress.portValue = UInt32(clamping: port)
        listener.filterChains = [chain]
        return listener
    }
}
