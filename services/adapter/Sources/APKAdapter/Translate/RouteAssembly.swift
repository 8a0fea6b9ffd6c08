import APKModel
import APKXDS
import Crypto
import EnvoyProtos
package import Foundation
package import SwiftProtobuf

/// One API's routes, encoded once (protobuf wire format of `VirtualHost.routes` entries) so that the shared route
/// configuration can be assembled by concatenating bytes: a deploy then re-encodes only its own API, and assembling
/// 10,000 APIs' routes costs a memory copy rather than a protobuf serialisation of every route.
package struct EncodedRoutes: Sendable, Equatable {
    package var id: String
    package var basePath: String
    /// Host → encoded versioned routes.
    package var versioned: [String: Data]
    /// Host → encoded default-version routes.
    package var defaultVersion: [String: Data]
    /// Digest of all of the above (equal routes, equal digest).
    package var digest: String

    package init(_ resources: APIResources) {
        id = resources.id
        basePath = resources.basePath
        versioned = resources.versionedRoutes.mapValues(RouteAssembly.encode)
        defaultVersion = resources.defaultVersionRoutes.mapValues(RouteAssembly.encode)
        var hasher = SHA256()
        for (tag, table) in [("v", versioned), ("d", defaultVersion)] {
            for host in table.keys.sorted() {
                hasher.update(data: Data("\(tag)\u{0}\(host)\u{0}\(table[host]?.count ?? 0)\u{0}".utf8))
                hasher.update(data: table[host] ?? Data())
            }
        }
        digest = Hashing.hex(hasher.finalize().prefix(8))
    }
}

/// Builds the shared `RouteConfiguration` (``XDSTranslator/routeConfiguration(system:apis:settings:)``, same
/// content and order) from ``EncodedRoutes``.
package enum RouteAssembly {
    // Field numbers in envoy.config.route.v3: RouteConfiguration.virtual_hosts = 2, VirtualHost.routes = 3.
    private static let virtualHostsTag: UInt8 = 2 << 3 | 2
    private static let routesTag: UInt8 = 3 << 3 | 2

    /// Routes as repeated `VirtualHost.routes` fields.
    static func encode(_ routes: [Envoy_Config_Route_V3_Route]) -> Data {
        var data = Data()
        for route in routes {
            let bytes: Data = (try? route.serializedBytes(options: AnyPacking.options)) ?? Data()
            data.append(routesTag)
            appendVarint(UInt64(bytes.count), to: &data)
            data.append(bytes)
        }
        return data
    }

    /// The packed route configuration and its version (a digest of the parts' digests).
    package static func assemble(
        system: EncodedRoutes, apis: [EncodedRoutes], settings: XDSSettings
    ) -> (any: Google_Protobuf_Any, version: String) {
        let ordered = apis.sorted { XDSTranslator.precedes(($0.basePath, $0.id), ($1.basePath, $1.id)) }
        var hosts: [String: [(Data, String)]] = [:]
        for (host, data) in system.versioned { hosts[host, default: []].append((data, system.digest)) }
        for api in ordered {
            for (host, data) in api.versioned { hosts[host, default: []].append((data, "v" + api.digest)) }
        }
        for api in ordered {
            for (host, data) in api.defaultVersion { hosts[host, default: []].append((data, "d" + api.digest)) }
        }
        let shell = XDSTranslator.routeConfigurationShell(settings: settings)
        var value: Data = (try? shell.serializedBytes(options: AnyPacking.options)) ?? Data()
        var hasher = SHA256()
        hasher.update(data: value)
        for host in hosts.keys.sorted() {
            let vhost = XDSTranslator.virtualHost(host, hasRoutes: { hosts[$0] != nil }, settings: settings)
            let vhostHeader: Data = (try? vhost.serializedBytes(options: AnyPacking.options)) ?? Data()
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
        var any = Google_Protobuf_Any()
        any.typeURL = TypeURL.route
        any.value = value
        return (any, Hashing.hex(hasher.finalize().prefix(8)))
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
