import APKModel
import APKXDS
import Crypto
import EnvoyProtos
package import Foundation
package import SwiftProtobuf

/// One API's routes, encoded once (protobuf wire format of `VirtualHost.routes` entries) so that a scope's route
/// configuration can be assembled by concatenating bytes: a deploy then re-encodes only its own API, and assembling
/// a scope costs a memory copy of its routes rather than a protobuf serialisation of every route.
package struct EncodedRoutes: Sendable, Equatable {
    package var id: String
    package var basePath: String
    /// Scope + host → encoded versioned routes.
    package var versioned: [RouteKey: Data]
    /// Scope + host → encoded default-version routes.
    package var defaultVersion: [RouteKey: Data]
    /// Per scope (first path segment), a digest of this API's routes in it (equal routes, equal digest).
    package var digests: [String: String]

    /// Throws when a route cannot be encoded (the API is then not served; its status says why).
    package init(_ resources: APIResources, encoder: ProtoEncoder = .deterministic) throws {
        id = resources.id
        basePath = resources.basePath
        versioned = try resources.versionedRoutes.mapValues { try RouteAssembly.encode($0, encoder: encoder) }
        defaultVersion = try resources.defaultVersionRoutes.mapValues { try RouteAssembly.encode($0, encoder: encoder) }
        var hashers: [String: SHA256] = [:]
        for (tag, table) in [("v", versioned), ("d", defaultVersion)] {
            for key in table.keys.sorted() {
                let data = table[key] ?? Data()
                hashers[key.segment, default: SHA256()].update(data: Data("\(tag)\u{0}\(key.host)\u{0}\(data.count)\u{0}".utf8))
                hashers[key.segment, default: SHA256()].update(data: data)
            }
        }
        digests = hashers.mapValues { Hashing.hex($0.finalize().prefix(8)) }
    }

    /// The scopes this API has routes in.
    package var segments: Set<String> { Set(digests.keys) }
}

/// Builds a scope's `RouteConfiguration` from ``EncodedRoutes``, and the scope carrying it: the one route-configuration
/// builder (golden tests decode what it assembles). Within a virtual host: system routes, then the versioned routes of
/// each API (``XDSTranslator/precedes(_:_:)`` order), then the default-version routes in the same order.
package enum RouteAssembly {
    // Field numbers in envoy.config.route.v3: RouteConfiguration.virtual_hosts = 2, VirtualHost.routes = 3,
    // ScopedRouteConfiguration.route_configuration = 5.
    private static let virtualHostsTag: UInt8 = 2 << 3 | 2
    private static let routesTag: UInt8 = 3 << 3 | 2
    private static let inlineRouteConfigurationTag: UInt8 = 5 << 3 | 2

    /// Routes as repeated `VirtualHost.routes` fields.
    static func encode(_ routes: [Envoy_Config_Route_V3_Route], encoder: ProtoEncoder) throws -> Data {
        var data = Data()
        for route in routes {
            let bytes = try encoder.encode(route)
            data.append(routesTag)
            appendVarint(UInt64(bytes.count), to: &data)
            data.append(bytes)
        }
        return data
    }

    /// The encoded route configuration of the scope `segment` and its version (a digest of the parts' digests);
    /// `apis` may include APIs without routes in the scope (they contribute nothing).
    package static func assemble(
        segment: String, system: EncodedRoutes, apis: [EncodedRoutes], settings: XDSSettings,
        encoder: ProtoEncoder = .deterministic
    ) throws -> (bytes: Data, version: String) {
        let ordered = apis.filter { $0.digests[segment] != nil }
            .sorted { XDSTranslator.precedes(($0.basePath, $0.id), ($1.basePath, $1.id)) }
        var hosts: [String: [(Data, String)]] = [:]
        func add(_ table: [RouteKey: Data], digest: String) {
            for (key, data) in table where key.segment == segment { hosts[key.host, default: []].append((data, digest)) }
        }
        add(system.versioned, digest: system.digests[segment] ?? "")
        for api in ordered { add(api.versioned, digest: "v" + api.id + (api.digests[segment] ?? "")) }
        for api in ordered { add(api.defaultVersion, digest: "d" + api.id + (api.digests[segment] ?? "")) }
        let shell = XDSTranslator.routeConfigurationShell(segment: segment, settings: settings)
        var value = try encoder.encode(shell)
        var hasher = SHA256()
        hasher.update(data: value)
        for host in hosts.keys.sorted() {
            let vhost = XDSTranslator.virtualHost(host, hasRoutes: { hosts[$0] != nil }, settings: settings)
            let vhostHeader = try encoder.encode(vhost)
            let parts = hosts[host] ?? []
            let length = vhostHeader.count + parts.reduce(0) { $0 + $1.0.count }
            value.append(virtualHostsTag)
            appendVarint(UInt64(length), to: &value)
            value.append(vhostHeader)
            hasher.update(data: Data("\u{0}\(host)\u{0}".utf8))
            hasher.update(data: vhostHeader)
            for (data, digest) in parts {
                value.append(data)
                hasher.update(data: Data(digest.utf8))
            }
        }
        return (value, Hashing.hex(hasher.finalize().prefix(8)))
    }

    /// The packed scope of `segment` carrying `routeConfiguration` (an assembled RouteConfiguration's bytes) inline.
    package static func scope(
        segment: String, routeConfiguration: Data, settings: XDSSettings, encoder: ProtoEncoder = .deterministic
    ) throws -> Google_Protobuf_Any {
        let shell = XDSTranslator.scopeShell(segment: segment, settings: settings)
        var value = try encoder.encode(shell)
        value.append(inlineRouteConfigurationTag)
        appendVarint(UInt64(routeConfiguration.count), to: &value)
        value.append(routeConfiguration)
        var any = Google_Protobuf_Any()
        any.typeURL = TypeURL.scopedRoute
        any.value = value
        return any
    }

    private static func appendVarint(_ value: UInt64, to data: inout Data) {
        var value = value
        while value >= 0x80 {
            data.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        data.append(UInt8(value))
    }
}
