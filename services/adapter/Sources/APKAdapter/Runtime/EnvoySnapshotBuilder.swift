import APKAuthPlan
import APKModel
import APKXDS
import Crypto
import EnvoyProtos
import Foundation
import SwiftProtobuf

/// Envoy's discovery snapshot (listeners, clusters, scoped route configurations), built from the per-API outputs.
///
/// Keeps the published scopes and clusters between publications, so one publication costs O(the scopes and clusters
/// that changed). Versions are content digests: equal content gives equal versions, also across adapter restarts,
/// which lets a reconnecting Envoy skip what it already runs. Remembers which APIs changed in each publication, so a
/// NACK can be blamed on them.
struct EnvoySnapshotBuilder {
    let settings: XDSSettings
    private let encoder: ProtoEncoder
    private let systemRoutes: EncodedRoutes
    private let systemClusters: [PackedCluster]
    private let listeners: VersionedResources

    /// The served APIs' routes, and per scope (first path segment) the APIs with routes in it.
    private var routes: [String: EncodedRoutes] = [:]
    private var scopeMembers: [String: Set<String>] = [:]
    /// Scopes whose route configuration must be assembled again at the next publication.
    private var dirtySegments: Set<String> = []
    /// The published scopes by name (one per segment, its route configuration inline), and per segment the digest
    /// of its route configuration.
    private var scopes: [String: Google_Protobuf_Any] = [:]
    private var scopeDigests: [String: String] = [:]
    private var scopeVersion = MultisetDigest()
    /// Cluster name → the APIs that define it ("" for the system clusters) → packed cluster. When several define the
    /// same name, the first API by name wins (system first).
    private var clusterProviders: [String: [String: PackedCluster]] = [:]
    private var dirtyClusters: Set<String> = []
    private var clusterAnys: [String: Google_Protobuf_Any] = [:]
    private var clusterDigests: [String: String] = [:]
    private var clusterVersion = MultisetDigest()

    /// `native` mode: each credential list the served APIs' routes name → those APIs; the `jwt_authn`
    /// configuration (ECDS) defines exactly these requirements and is rebuilt when the set of lists changes.
    private var requirementUsers = UsageIndex<JWTRequirement>()
    private var securityDirty = true
    private var security: VersionedResources?
    /// Local-share mode: each quota's local stage → the APIs whose routes use it; the two stages' configurations
    /// (ECDS) define exactly these and are rebuilt when the set changes.
    private var localShareUsers = UsageIndex<LocalShareRule>()
    private var localSharesDirty = true
    private var localShares: VersionedResources?

    private var lastVersions: [String: String]?
    /// Published snapshots, oldest first: per type its version, and the APIs whose output changed in it.
    private var publications: [(versions: [String: String], changed: Set<String>)] = []
    private var changedSinceLastPublication: Set<String> = []

    /// Throws when the gateway-wide resources (listeners, system routes and clusters) cannot be encoded.
    init(settings: XDSSettings, encoder: ProtoEncoder) throws {
        self.settings = settings
        self.encoder = encoder
        let system = try XDSTranslator.systemResources(settings: settings, encoder: encoder)
        systemRoutes = try EncodedRoutes(system, encoder: encoder)
        systemClusters = try system.clusters.map { try PackedCluster($0, encoder: encoder) }
        var listeners: [String: Google_Protobuf_Any] = [:]
        var digests: [String] = []
        for listener in try XDSTranslator.listeners(settings: settings, encoder: encoder) {
            let any = try AnyPacking.pack(listener, encoder: encoder)
            listeners[listener.name] = any
            digests.append(listener.name + "=" + ContentDigest.of(any.value))
        }
        self.listeners = VersionedResources(
            version: ContentDigest.of(Data(digests.joined(separator: "\n").utf8)), resources: listeners)
        dirtySegments = systemRoutes.segments
        setClusters(of: "", from: [], to: systemClusters)
    }

    /// True when an API's output changed since the last publication.
    var hasChanges: Bool { !changedSinceLastPublication.isEmpty }

    /// Forgets every API (`known`: the APIs it held, which count as changed), keeping the system resources.
    mutating func removeAllAPIs(known: Set<String>) {
        routes = [:]
        scopeMembers = [:]
        if requirementUsers.removeAll() { securityDirty = true }
        if localShareUsers.removeAll() { localSharesDirty = true }
        dirtyClusters.formUnion(clusterAnys.keys)
        clusterProviders = [:]
        setClusters(of: "", from: [], to: systemClusters)
        dirtySegments = systemRoutes.segments.union(scopeDigests.keys)
        changedSinceLastPublication.formUnion(known)
    }

    /// Replaces what `api` contributes (nil: nothing, the API is unknown or gone).
    mutating func replace(_ api: String, from old: APIOutput?, to new: APIOutput?) {
        setRoutes(of: api, from: old?.routes, to: new?.routes)
        setClusters(of: api, from: old?.clusters ?? [], to: new?.clusters ?? [])
        if requirementUsers.replace(api, from: old?.requirements ?? [], to: new?.requirements ?? []) {
            securityDirty = true
        }
        if localShareUsers.replace(api, from: old?.localShares ?? [], to: new?.localShares ?? []) {
            localSharesDirty = true
        }
        if old?.identity != new?.identity { changedSinceLastPublication.insert(api) }
    }

    /// The APIs to blame for a NACK: those whose output changed between the version Envoy still runs and the one
    /// it rejected (nil when the rejected version is not one of the recent publications).
    func blame(_ nack: NACKRecord) -> Set<String>? {
        guard let rejectedIndex = publications.lastIndex(where: { $0.versions[nack.typeURL] == nack.rejectedVersion })
        else { return nil }
        let acceptedIndex = nack.acceptedVersion.isEmpty
            ? nil : publications[..<rejectedIndex].lastIndex { $0.versions[nack.typeURL] == nack.acceptedVersion }
        let start = acceptedIndex.map { $0 + 1 } ?? 0
        return publications[start...rejectedIndex].reduce(into: Set<String>()) { $0.formUnion($1.changed) }
    }

    /// Builds the snapshot from the cached per-API output and the cached scopes (assembling only the scopes that
    /// changed); nil `snapshot` when no version changed.
    ///
    /// A scope whose route configuration cannot be assembled is left out, and every API with routes in it is
    /// reported Failed with the reason (in the returned statuses).
    mutating func publish() -> (snapshot: Snapshot?, statuses: [String: APIStatus]) {
        var statuses: [String: APIStatus] = [:]
        for name in dirtyClusters {
            if let old = clusterDigests[name] { clusterVersion.remove("\(name)=\(old)") }
            if let chosen = clusterProviders[name]?.min(by: { $0.key < $1.key })?.value {
                clusterAnys[name] = chosen.any
                clusterDigests[name] = chosen.digest
                clusterVersion.insert("\(name)=\(chosen.digest)")
            } else {
                clusterAnys[name] = nil
                clusterDigests[name] = nil
            }
        }
        dirtyClusters = []
        for segment in dirtySegments {
            let name = XDSTranslator.routeConfigurationName(segment: segment, settings: settings)
            let members = scopeMembers[segment] ?? []
            if let old = scopeDigests[segment] { scopeVersion.remove("\(name)=\(old)") }
            guard !members.isEmpty || systemRoutes.digests[segment] != nil else {
                scopes[name] = nil
                scopeDigests[segment] = nil
                continue
            }
            do {
                let assembled = try RouteAssembly.assemble(
                    segment: segment, system: systemRoutes, apis: members.compactMap { routes[$0] },
                    settings: settings, encoder: encoder)
                scopes[name] = try RouteAssembly.scope(
                    segment: segment, routeConfiguration: assembled.bytes, settings: settings, encoder: encoder)
                scopeDigests[segment] = assembled.version
                scopeVersion.insert("\(name)=\(assembled.version)")
            } catch {
                scopes[name] = nil
                scopeDigests[segment] = nil
                let message = "could not assemble the route configuration of /\(segment): \(error)"
                for api in members { statuses[api] = .failed(message) }
            }
        }
        dirtySegments = []
        if securityDirty, case .native = settings.auth.enforcement {
            do {
                let config = try XDSTranslator.jwtAuthnExtension(
                    requirements: requirementUsers.keys, settings: settings, encoder: encoder)
                let any = try AnyPacking.pack(config, encoder: encoder)
                security = VersionedResources(version: ContentDigest.of(any.value), resources: [config.name: any])
                securityDirty = false
            } catch {
                // Cannot happen for well-formed protos; the previous configuration stays and the APIs that need
                // the new requirement are not routable (their routes name a requirement Envoy refuses: closed).
                for api in requirementUsers.users {
                    statuses[api] = .failed("could not encode the gateway's jwt_authn configuration: \(error)")
                }
            }
        }
        if localSharesDirty, settings.rateLimiter?.localShare != nil {
            do {
                var resources: [String: Google_Protobuf_Any] = [:]
                var digests: [String] = []
                for level in RateLimitLevel.allCases {
                    let config = try XDSTranslator.localShareExtension(
                        level, rules: localShareUsers.keys, encoder: encoder)
                    let any = try AnyPacking.pack(config, encoder: encoder)
                    resources[config.name] = any
                    digests.append(config.name + "=" + ContentDigest.of(any.value))
                }
                localShares = VersionedResources(
                    version: ContentDigest.of(Data(digests.joined(separator: "\n").utf8)), resources: resources)
                localSharesDirty = false
            } catch {
                // Cannot happen for well-formed protos; the previous stages stay, and the APIs whose quotas they
                // may lack say so.
                for api in localShareUsers.users {
                    statuses[api] = .failed("could not encode the gateway's local-share configuration: \(error)")
                }
            }
        }
        var snapshot = Snapshot()
        snapshot.types[TypeURL.listener] = listeners
        if security != nil || localShares != nil {
            // One type for every ECDS resource: jwt_authn and the local-share stages.
            let parts = [security, localShares].compactMap(\.self)
            snapshot.types[TypeURL.extensionConfig] = VersionedResources(
                version: parts.map(\.version).joined(separator: "+"),
                resources: parts.reduce(into: [:]) { $0.merge($1.resources) { first, _ in first } })
        }
        snapshot.types[TypeURL.cluster] = VersionedResources(version: clusterVersion.hex, resources: clusterAnys)
        snapshot.types[TypeURL.scopedRoute] = VersionedResources(version: scopeVersion.hex, resources: scopes)
        // Versions are content digests: comparing them is comparing content, without touching megabytes.
        let versions = snapshot.types.mapValues(\.version)
        guard versions != lastVersions else { return (nil, statuses) }
        lastVersions = versions
        publications.append((versions: versions, changed: changedSinceLastPublication))
        if publications.count > 64 { publications.removeFirst(publications.count - 64) }
        changedSinceLastPublication = []
        return (snapshot, statuses)
    }

    /// Moves an API between scopes: the scopes it leaves and enters are assembled again at the next publication.
    private mutating func setRoutes(of api: String, from old: EncodedRoutes?, to new: EncodedRoutes?) {
        routes[api] = new
        for segment in old?.segments ?? [] {
            scopeMembers[segment]?.remove(api)
            if scopeMembers[segment]?.isEmpty == true { scopeMembers[segment] = nil }
            if old?.digests[segment] != new?.digests[segment] { dirtySegments.insert(segment) }
        }
        for segment in new?.segments ?? [] {
            scopeMembers[segment, default: []].insert(api)
            if old?.digests[segment] != new?.digests[segment] { dirtySegments.insert(segment) }
        }
    }

    /// Records the clusters an API defines now; the names it touches are chosen again at the next publication.
    private mutating func setClusters(of api: String, from old: [PackedCluster], to new: [PackedCluster]) {
        for entry in old {
            clusterProviders[entry.name]?[api] = nil
            if clusterProviders[entry.name]?.isEmpty == true { clusterProviders[entry.name] = nil }
            dirtyClusters.insert(entry.name)
        }
        for entry in new {
            clusterProviders[entry.name, default: [:]][api] = entry
            dirtyClusters.insert(entry.name)
        }
    }
}

/// An order-independent digest of a set of strings (the wrapping sum of their SHA-256 prefixes), updated in O(1) per
/// insertion or removal: a type's version over 10,000 resources without sorting and hashing all of them per round.
/// Equal sets give equal digests, in any process.
struct MultisetDigest {
    private var sum: UInt64 = 0

    mutating func insert(_ element: String) { sum &+= Self.hash(element) }
    mutating func remove(_ element: String) { sum &-= Self.hash(element) }

    /// 16 hex digits.
    var hex: String {
        let digits = String(sum, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    private static func hash(_ element: String) -> UInt64 {
        SHA256.hash(data: Data(element.utf8)).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// Which APIs use each key (a `jwt_authn` requirement, a local-share stage): a gateway-wide configuration built from
/// the keys changes only when a key gains its first user or loses its last.
struct UsageIndex<Key: Hashable & Sendable>: Sendable {
    private var usersByKey: [Key: Set<String>] = [:]

    /// The keys some API uses.
    var keys: Set<Key> { Set(usersByKey.keys) }
    /// Every API that uses a key.
    var users: Set<String> { usersByKey.values.reduce(into: []) { $0.formUnion($1) } }

    /// Moves `api` from the keys `old` to the keys `new`; true when the set of keys changed.
    mutating func replace(_ api: String, from old: Set<Key>, to new: Set<Key>) -> Bool {
        var changed = false
        for key in old.subtracting(new) {
            usersByKey[key]?.remove(api)
            if usersByKey[key]?.isEmpty == true {
                usersByKey[key] = nil
                changed = true
            }
        }
        for key in new.subtracting(old) where usersByKey[key, default: []].insert(api).inserted {
            if usersByKey[key]?.count == 1 { changed = true }
        }
        return changed
    }

    /// Forgets every user; true when there were keys.
    mutating func removeAll() -> Bool {
        defer { usersByKey = [:] }
        return !usersByKey.isEmpty
    }
}
