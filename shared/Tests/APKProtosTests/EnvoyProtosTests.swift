import APKProtos
import EnvoyProtos
import SwiftProtobuf
import Testing

/// Smoke tests of the generated protobuf modules: names, `Any` packing and Envoy-style JSON survive a round trip.
@Suite("Generated protos")
struct EnvoyProtosTests {
    static let hcmTypeURL =
        "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
    static let routerTypeURL = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"

    typealias HCM = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager
    typealias HTTPFilter = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter

    init() {
        // JSON of an `Any` needs its message type registered (an `Any` decoded from binary holds only bytes).
        Google_Protobuf_Any.register(messageType: HCM.self)
        Google_Protobuf_Any.register(messageType: Envoy_Extensions_Filters_Http_Router_V3_Router.self)
    }

    func makeListener() throws -> Envoy_Config_Listener_V3_Listener {
        var router = HTTPFilter()
        router.name = "envoy.filters.http.router"
        router.typedConfig = try Google_Protobuf_Any(message: Envoy_Extensions_Filters_Http_Router_V3_Router())

        var hcm = HCM()
        hcm.statPrefix = "ingress_http"
        hcm.codecType = .auto
        hcm.rds.routeConfigName = "http-9080"
        hcm.rds.configSource.ads = Envoy_Config_Core_V3_AggregatedConfigSource()
        hcm.rds.configSource.resourceApiVersion = .v3
        hcm.httpFilters = [router]

        var filter = Envoy_Config_Listener_V3_Filter()
        filter.name = "envoy.filters.network.http_connection_manager"
        filter.typedConfig = try Google_Protobuf_Any(message: hcm)

        var chain = Envoy_Config_Listener_V3_FilterChain()
        chain.filters = [filter]

        var listener = Envoy_Config_Listener_V3_Listener()
        listener.name = "http-9080"
        listener.address.socketAddress.address = "0.0.0.0"
        listener.address.socketAddress.portValue = 9080
        listener.filterChains = [chain]
        return listener
    }

    @Test("Any packs an HCM with its type URL and survives binary")
    func binaryRoundTrip() throws {
        let listener = try makeListener()
        #expect(listener.filterChains[0].filters[0].typedConfig.typeURL == Self.hcmTypeURL)

        let bytes: [UInt8] = try listener.serializedBytes()
        let decoded = try Envoy_Config_Listener_V3_Listener(serializedBytes: bytes)
        // `==` on a message holding an `Any` compares packed messages with raw bytes differently; compare the wire.
        #expect(try decoded.serializedBytes() as [UInt8] == bytes)
        let any = try #require(decoded.filterChains.first?.filters.first?.typedConfig)
        #expect(any.typeURL == Self.hcmTypeURL)
        let hcm = try HCM(unpackingAny: any)
        #expect(hcm.statPrefix == "ingress_http")
        #expect(hcm.rds.routeConfigName == "http-9080")
        #expect(hcm.httpFilters.first?.typedConfig.typeURL == Self.routerTypeURL)
    }

    @Test("Envoy-style JSON (proto field names) survives a round trip, also after binary")
    func jsonRoundTrip() throws {
        let listener = try makeListener()
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true

        let fromBinary = try Envoy_Config_Listener_V3_Listener(serializedBytes: listener.serializedBytes() as [UInt8])
        let json = try fromBinary.jsonString(options: options)
        #expect(json.contains(#""filter_chains""#))
        #expect(json.contains(#""stat_prefix":"ingress_http""#))
        #expect(json.contains(#""port_value":9080"#))
        #expect(json.contains(#""@type":"\#(Self.hcmTypeURL)""#))

        let decoded = try Envoy_Config_Listener_V3_Listener(jsonString: json)
        let any = try #require(decoded.filterChains.first?.filters.first?.typedConfig)
        #expect(any.typeURL == Self.hcmTypeURL)
        #expect(try HCM(unpackingAny: any).statPrefix == "ingress_http")
    }

    @Test("APK discovery types pack into Any with their own type URL")
    func apkDiscoveryAny() throws {
        var api = Apk_Discovery_V1_Api()
        api.id = "pizzashack-1.0.0"
        api.basePath = "/pizzashack/1.0.0"
        var resource = Apk_Discovery_V1_Resource()
        resource.path = "/menu/{id}"
        resource.method = "GET"
        resource.operationID = "get-menu-id"
        resource.secured = true
        resource.scopes = ["read:menu"]
        api.resources = [resource]

        let any = try Google_Protobuf_Any(message: api)
        #expect(any.typeURL == "type.googleapis.com/apk.discovery.v1.Api")
        #expect(try Apk_Discovery_V1_Api(unpackingAny: any) == api)

        var issuer = Apk_Discovery_V1_TokenIssuer()
        issuer.jwksURL = "https://idp.example/jwks"
        #expect(issuer.signatureValidation == .jwksURL("https://idp.example/jwks"))
    }
}
