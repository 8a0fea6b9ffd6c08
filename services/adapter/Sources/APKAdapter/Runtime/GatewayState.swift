package import APKModel
package import APKStore
package import APKXDS
import Crypto
import EnvoyProtos
package import Foundation
import SwiftProtobuf

/// The adapter's in-memory model of the watched namespace and its translation, kept current by store events.
///
/// Each API is translated (store → IR → Envoy resources) only when one of the resources it read changes — by
/// generation or uid, so status-only writes cost nothing — and its packed clusters are cached, so one deploy costs
/// O(that API) plus assembling the route configuration. Versions are content digests: equal content gives equal
/// versions, also across adapter restarts, which lets a reconnecting Envoy skip what it already runs.
///
/// Not thread-safe: one task (``AdapterService``) owns it.
package struct GatewayState {
    /// The desired status of an API CR (`status.deploymentStatus`).
    package struct APIStatus: Sendable, Hashable {
        package var accepted: Bool
        package var status: String
        package var message: String

        package init(accepted: Bool, status: String, message: String) {
            self.accepted = accepted
            self.status = status
            self.message = message
        }

        /// The status document, with the transition time.
        package func document(at time: Date) -> JSONValue {
            let formatter = ISO8601DateFormatter()
            return .object(JSONObject([
                ("deploymentStatus", .object(JSONObject([
                    ("status", .string(status)),
                    ("accepted", .bool(accepted)),
                    ("message", .string(message)),
                    ("transitionTime", .string(formatter.string(from: time))),
                ]))),
            ]))
        }

        /// True when `stored` (an API CR's status) already says the same (ignoring the transition time).
        package func matches(_ stored: JSONValue?) -> Bool {
            guard let deployment = stored?["deploymentStatus"] else { return false }
            return deployment["accepted"]?.boolValue == accepted && deployment["status"]?.stringValue == status
                && deployment["message"]?.stringValue == message
        }
    }

    /// What changed for the caller to act on after an update.
    package struct Update: Sendable {
        /// The snapshot to publish (nil when nothing Envoy sees changed).
        package var snapshot: Snapshot?
        /// API CRs whose status should be written (API name → status).
        package var statuses: [String: APIStatus]
    }

    private struct Input: Hashable {
        var uid: String
        var generation: Int64
    }

    private struct Compiled {
        var translation: APITranslation
        /// uid + generation of every resource read (nil: it did not exist).
        var inputs: [ReferenceKey: Input?]
        /// The API's routes, encoded (nil: not served — no routes, or rejected by Envoy).
        var routes: EncodedRoutes?
        var clusters: [PackedCluster]

        /// Identity of what this API contributes to the snapshot.
        var output: [String] {
            let digests = routes?.digests ?? [:]
            return digests.keys.sorted().map { "\($0)=\(digests[$0] ?? "")" } + clusters.map { $0.name + "=" + $0.digest }
        }
    }

    package let namespace: String
    package let settings: XDSSettings
    private let translator: ResourceTranslator
    private let encoder: ProtoEncoder
    private var objects: [ReferenceKey: StoredResource] = [:]
    private var compiled: [String: Compiled] = [:]
    private var referencedBy: [ReferenceKey: Set<String>] = [:]
    /// APIs Envoy rejected (name → Envoy's message), left out until their inputs change.
    private(set) package var quarantined: [String: String] = [:]
    private let systemRoutes: EncodedRoutes
    /// Scope (first path segment) → the served APIs with routes in it.
    private var scopeMembers: [String: Set<String>] = [:]
    /// Scopes whose route configuration must be assembled again at the next publication.
    private var dirtySegments: Set<String> = []
    /// The published scopes by name (one per segment, its route configuration inline), and per segment the digest
    /// of its route configuration: kept between publications so that one costs O(the scopes that changed).
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
    private let systemClusters: [PackedCluster]
    private let listeners: VersionedResources
    private var lastSnapshot: Snapshot?
    /// Published snapshots, oldest first: per type its version, and the APIs whose output changed in it.
    private var publications: [(versions: [String: String], changed: Set<String>)] = []
    private var changedSinceLastPublication: Set<String> = []
    /// The store cursor the state reflects.
    package private(set) var cursor: Int64 = 0

    /// Throws when the gateway-wide resources (listeners, system routes and clusters) cannot be encoded: nothing
    /// could be served then, so the adapter does not start.
    package init(
        namespace: String, settings: XDSSettings, translator: ResourceTranslator = ResourceTranslator(),
        encoder: ProtoEncoder = .deterministic
    ) throws {
        self.namespace = namespace
        self.settings = settings
        self.translator = translator
        self.encoder = encoder
        let system = try XDSTranslator.systemResources(settings: settings, encoder: encoder)
        self.systemRoutes = try EncodedRoutes(system, encoder: encoder)
        self.dirtySegments = systemRoutes.segments
        self.systemClusters = try system.clusters.map { try Self.packed($0, encoder: encoder) }
        var listeners: [String: Google_Protobuf_Any] = [:]
        var digests: [String] = []
        for listener in try XDSTranslator.listeners(settings: settings, encoder: encoder) {
            let any = try AnyPacking.pack(listener, encoder: encoder)
            listeners[listener.name] = any
            digests.append(listener.name + "=" + Self.digest(any.value))
        }
        self.listeners = VersionedResources(version: Self.digest(Data(digests.joined(separator: "\n").utf8)), resources: listeners)
        setClusters(of: "", from: [], to: systemClusters)
    }

    /// Number of APIs translated (served or not).
    package var apiCount: Int { compiled.count }
    /// Number of APIs with routes in the current snapshot.
    package var servedCount: Int { compiled.values.filter { $0.routes != nil }.count }

    /// The translation of one API (nil if unknown).
    package func translation(of api: String) -> APITranslation? { compiled[api]?.translation }

    // MARK: updates

    /// Replaces everything with a listed state (start-up or relist).
    package mutating func load(_ snapshot: ResourceSnapshot) -> Update {
        objects = [:]
        for resource in snapshot.resources.values where resource.namespace == namespace {
            objects[ReferenceKey(kind: resource.resource.kind, name: resource.resource.name)] = resource
        }
        cursor = snapshot.cursor
        let removed = Set(compiled.keys)
        compiled = [:]
        referencedBy = [:]
        scopeMembers = [:]
        dirtyClusters.formUnion(clusterAnys.keys)
        clusterProviders = [:]
        setClusters(of: "", from: [], to: systemClusters)
        dirtySegments = systemRoutes.segments.union(scopeDigests.keys)
        let apis = Set(objects.keys.filter { $0.kind == CRKind.api.rawValue }.map(\.name))
        changedSinceLastPublication.formUnion(removed.union(apis))
        return rebuild(dirty: apis, force: true)
    }

    /// Applies store events (any order of kinds; events of other namespaces are ignored).
    package mutating func apply(_ events: [ResourceEvent]) -> Update {
        var dirty: Set<String> = []
        for event in events {
            cursor = max(cursor, event.cursor)
            let stored = event.resource
            guard stored.namespace == namespace else { continue }
            let key = ReferenceKey(kind: stored.resource.kind, name: stored.resource.name)
            if let held = objects[key], held.resourceVersion >= stored.resourceVersion, event.type != .deleted { continue }
            switch event.type {
            case .added, .modified: objects[key] = stored
            case .deleted: objects[key] = nil
            }
            if key.kind == CRKind.api.rawValue { dirty.insert(key.name) }
            if let owner = stored.owner { dirty.insert(owner) }
            dirty.formUnion(referencedBy[key] ?? [])
        }
        return rebuild(dirty: dirty, force: false)
    }

    /// Envoy rejected a response: quarantines the APIs whose output changed between the version Envoy still runs
    /// and the rejected one, and rebuilds without them. Returns nil when no API can be blamed (logged by the caller).
    package mutating func rejected(_ nack: NACKRecord) -> Update? {
        guard let rejectedIndex = publications.lastIndex(where: { $0.versions[nack.typeURL] == nack.rejectedVersion })
        else { return nil }
        let acceptedIndex = nack.acceptedVersion.isEmpty
            ? nil : publications[..<rejectedIndex].lastIndex { $0.versions[nack.typeURL] == nack.acceptedVersion }
        let start = acceptedIndex.map { $0 + 1 } ?? 0
        var blamed: Set<String> = []
        for publication in publications[start...rejectedIndex] { blamed.formUnion(publication.changed) }
        blamed = blamed.filter { compiled[$0]?.routes != nil }
        guard !blamed.isEmpty else { return nil }
        let message = "rejected by the router (\(TypeURL.shortName(nack.typeURL))): \(nack.message)"
        var statuses: [String: APIStatus] = [:]
        for api in blamed {
            quarantined[api] = message
            setRoutes(of: api, from: compiled[api]?.routes, to: nil)
            setClusters(of: api, from: compiled[api]?.clusters ?? [], to: [])
            compiled[api]?.routes = nil
            compiled[api]?.clusters = []
            statuses[api] = APIStatus(accepted: false, status: "Failed", message: message)
        }
        changedSinceLastPublication.formUnion(blamed)
        var update = publish()
        update.statuses.merge(statuses) { $1 }
        return update
    }

    // MARK: translation

    private mutating func rebuild(dirty: Set<String>, force: Bool) -> Update {
        var statuses: [String: APIStatus] = [:]
        for api in dirty.sorted() {
            let key = ReferenceKey(kind: CRKind.api.rawValue, name: api)
            guard let stored = objects[key] else {
                if let old = compiled.removeValue(forKey: api) {
                    unindex(api, old.translation.references)
                    setRoutes(of: api, from: old.routes, to: nil)
                    setClusters(of: api, from: old.clusters, to: [])
                    changedSinceLastPublication.insert(api)
                }
                quarantined[api] = nil
                continue
            }
            if !force, let old = compiled[api], inputs(of: old.translation.references) == old.inputs {
                continue  // only statuses (or unrelated fields) changed
            }
            let lookupObjects = objects
            let translation = translator.translate(
                api: stored.resource, namespace: namespace, lookup: { lookupObjects[$0]?.resource })
            let previous = compiled[api]
            if let previous { unindex(api, previous.translation.references) }
            for reference in translation.references { referencedBy[reference, default: []].insert(api) }
            quarantined[api] = nil  // inputs changed: give it another chance
            var entry = Compiled(translation: translation, inputs: inputs(of: translation.references), routes: nil, clusters: [])
            var resources: APIResources?
            var encodingFailure: String?
            do {
                if let ir = translation.api {
                    let output = try XDSTranslator.resources(for: ir, settings: settings, encoder: encoder)
                    entry.clusters = try output.clusters.map { try Self.packed($0, encoder: encoder) }
                    entry.routes = try EncodedRoutes(output, encoder: encoder)
                    resources = output
                }
            } catch {
                // Not served at all (no routes, no clusters) rather than served with empty resources.
                entry.clusters = []
                entry.routes = nil
                encodingFailure = "could not encode the API's router configuration: \(error)"
            }
            compiled[api] = entry
            setRoutes(of: api, from: previous?.routes, to: entry.routes)
            setClusters(of: api, from: previous?.clusters ?? [], to: entry.clusters)
            if previous?.output != entry.output { changedSinceLastPublication.insert(api) }
            let status = encodingFailure.map { APIStatus(accepted: false, status: "Failed", message: $0) }
                ?? Self.status(for: translation, unscoped: resources?.unscopedOperations ?? [])
            if !status.matches(stored.status) { statuses[api] = status }
        }
        // Status-only events (the adapter's own status writes among them) change nothing Envoy sees: skip the
        // O(all APIs) assembly.
        guard force || !changedSinceLastPublication.isEmpty else { return Update(snapshot: nil, statuses: statuses) }
        var update = publish()
        update.statuses.merge(statuses) { published, _ in published }
        return update
    }

    private mutating func unindex(_ api: String, _ references: Set<ReferenceKey>) {
        for reference in references {
            referencedBy[reference]?.remove(api)
            if referencedBy[reference]?.isEmpty == true { referencedBy[reference] = nil }
        }
    }

    private func inputs(of references: Set<ReferenceKey>) -> [ReferenceKey: Input?] {
        var inputs: [ReferenceKey: Input?] = [:]
        for reference in references {
            inputs[reference] = objects[reference].map { Input(uid: $0.uid, generation: $0.generation) }
        }
        return inputs
    }

    static func status(for translation: APITranslation, unscoped: [String] = []) -> APIStatus {
        var problems = translation.problems
        if !unscoped.isEmpty {
            problems.append(
                "not routable at the root path (the first path segment must be literal): " + unscoped.joined(separator: ", "))
        }
        switch (translation.api != nil && !(translation.api?.environments.isEmpty ?? true), problems.isEmpty) {
        case (true, true):
            return APIStatus(accepted: true, status: "Deployed", message: "routable on the gateway")
        case (true, false):
            return APIStatus(accepted: true, status: "PartiallyDeployed", message: problems.joined(separator: "; "))
        case (false, _):
            return APIStatus(accepted: false, status: "Failed", message: problems.joined(separator: "; "))
        }
    }

    /// Moves an API between scopes: the scopes it leaves and enters are assembled again at the next publication.
    private mutating func setRoutes(of api: String, from old: EncodedRoutes?, to new: EncodedRoutes?) {
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

    // MARK: snapshot

    /// Builds the snapshot from the cached per-API output and the cached scopes (assembling only the scopes that
    /// changed); nil `snapshot` when nothing changed.
    ///
    /// A scope whose route configuration cannot be encoded is left out, and every API with routes in it is reported
    /// Failed with the reason (in the returned statuses).
    private mutating func publish() -> Update {
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
                    segment: segment, system: systemRoutes, apis: members.compactMap { compiled[$0]?.routes },
                    settings: settings, encoder: encoder)
                scopes[name] = try RouteAssembly.scope(
                    segment: segment, routeConfiguration: assembled.bytes, settings: settings, encoder: encoder)
                scopeDigests[segment] = assembled.version
                scopeVersion.insert("\(name)=\(assembled.version)")
            } catch {
                scopes[name] = nil
                scopeDigests[segment] = nil
                let message = "could not assemble the route configuration of /\(segment): \(error)"
                for api in members { statuses[api] = APIStatus(accepted: false, status: "Failed", message: message) }
            }
        }
        dirtySegments = []
        var snapshot = Snapshot()
        snapshot.types[TypeURL.listener] = listeners
        snapshot.types[TypeURL.cluster] = VersionedResources(version: clusterVersion.hex, resources: clusterAnys)
        snapshot.types[TypeURL.scopedRoute] = VersionedResources(version: scopeVersion.hex, resources: scopes)
        // Versions are content digests: comparing them is comparing content, without touching megabytes.
        guard snapshot.types.mapValues(\.version) != lastSnapshot?.types.mapValues(\.version) else {
            return Update(snapshot: nil, statuses: statuses)
        }
        lastSnapshot = snapshot
        publications.append((
            versions: snapshot.types.mapValues(\.version), changed: changedSinceLastPublication))
        if publications.count > 64 { publications.removeFirst(publications.count - 64) }
        changedSinceLastPublication = []
        return Update(snapshot: snapshot, statuses: statuses)
    }

    static func packed(_ cluster: Envoy_Config_Cluster_V3_Cluster, encoder: ProtoEncoder) throws -> PackedCluster {
        let any = try AnyPacking.pack(cluster, encoder: encoder)
        return PackedCluster(name: cluster.name, any: any, digest: digest(any.value))
    }

    /// First 16 hex digits of SHA-256.
    static func digest(_ data: Data) -> String {
        Hashing.hex(SHA256.hash(data: data).prefix(8))
    }
}

/// A cluster packed for the snapshot, with the digest of its bytes.
struct PackedCluster {
    var name: String
    var any: Google_Protobuf_Any
    var digest: String
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
