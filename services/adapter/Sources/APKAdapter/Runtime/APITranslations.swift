import APKAuthPlan
import APKModel
import APKStore
import Crypto
import EnvoyProtos
import Foundation
import SwiftProtobuf

/// What one API contributes to Envoy's snapshot: its encoded routes (nil: not served) and its packed clusters.
struct APIOutput: Equatable {
    var routes: EncodedRoutes?
    var clusters: [PackedCluster]
    /// The `jwt_authn` requirements its routes name (``APIResources/requirements``).
    var requirements: Set<JWTRequirement> = []
    /// Local-share mode: the local stages of its quotas (``APIResources/localShares``).
    var localShares: Set<LocalShareRule> = []

    static let empty = APIOutput(routes: nil, clusters: [])

    /// Identity of the contribution (equal identities, equal snapshot content).
    var identity: [String] {
        let scopes = (routes?.digests ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        // `requirements` and `localShares` are not part of it: the routes that name them are.
        return scopes + clusters.map { $0.name + "=" + $0.digest }
    }
}

/// The per-API translations: store → IR (``ResourceTranslator``) → Envoy resources (``XDSTranslator``), encoded once.
///
/// An API is translated again only when a resource it read changed by uid or generation (status-only writes cost
/// nothing). APIs Envoy rejected stay quarantined (not served) until one of their inputs changes.
struct APITranslations {
    /// The outcome of translating one API again.
    struct Change {
        var api: String
        var oldReferences: Set<ReferenceKey>
        var newReferences: Set<ReferenceKey>
        /// nil: the API was not known before / is gone now.
        var oldOutput: APIOutput?
        var newOutput: APIOutput?
        /// The status to write, when it differs from the stored one.
        var status: APIStatus?
    }

    private struct Entry {
        var translation: APITranslation
        var inputs: [ReferenceKey: ResourceIndex.Input?]
        var output: APIOutput
    }

    let settings: XDSSettings
    let translator: ResourceTranslator
    let encoder: ProtoEncoder
    private var entries: [String: Entry] = [:]
    /// APIs Envoy rejected (name → the reason), left out until their inputs change.
    private(set) var quarantined: [String: String] = [:]

    init(settings: XDSSettings, translator: ResourceTranslator, encoder: ProtoEncoder) {
        self.settings = settings
        self.translator = translator
        self.encoder = encoder
    }

    var names: Set<String> { Set(entries.keys) }
    var count: Int { entries.count }
    var servedCount: Int { entries.values.filter { $0.output.routes != nil }.count }
    func translation(of api: String) -> APITranslation? { entries[api]?.translation }
    func isServed(_ api: String) -> Bool { entries[api]?.output.routes != nil }

    /// Forgets every API (before a relist translates them all again).
    mutating func removeAll() {
        entries = [:]
    }

    /// Translates `api` again from `index` when it changed (always with `force`); nil when nothing had to be done.
    mutating func update(_ api: String, in index: ResourceIndex, force: Bool) -> Change? {
        guard let stored = index.api(named: api) else {
            quarantined[api] = nil
            guard let old = entries.removeValue(forKey: api) else { return nil }
            return Change(
                api: api, oldReferences: old.translation.references, newReferences: [], oldOutput: old.output,
                newOutput: nil, status: nil)
        }
        let previous = entries[api]
        if !force, let previous, index.inputs(of: previous.translation.references) == previous.inputs {
            return nil  // only statuses (or unrelated fields) changed
        }
        let translation = translator.translate(api: stored.resource, namespace: index.namespace, lookup: index.lookup)
        quarantined[api] = nil  // inputs changed: give it another chance
        var output = APIOutput.empty
        var status: APIStatus
        do {
            if let ir = translation.api {
                let resources = try XDSTranslator.resources(for: ir, settings: settings, encoder: encoder)
                output.clusters = try resources.clusters.map { try PackedCluster($0, encoder: encoder) }
                output.routes = try EncodedRoutes(resources, encoder: encoder)
                output.requirements = resources.requirements
                output.localShares = resources.localShares
                status = APIStatus.of(translation, unscoped: resources.unscopedOperations)
            } else {
                status = APIStatus.of(translation)
            }
        } catch let error as UnservableAPI {
            output = .empty
            status = .failed("not served: \(error)")
        } catch {
            // Not served at all (no routes, no clusters) rather than served with empty resources.
            output = .empty
            status = .failed("could not encode the API's router configuration: \(error)")
        }
        status.observedGeneration = stored.generation
        entries[api] = Entry(translation: translation, inputs: index.inputs(of: translation.references), output: output)
        return Change(
            api: api, oldReferences: previous?.translation.references ?? [], newReferences: translation.references,
            oldOutput: previous?.output, newOutput: output, status: status.matches(stored.status) ? nil : status)
    }

    /// Takes a served API out of the snapshot after Envoy rejected it; returns what it contributed.
    mutating func quarantine(_ api: String, reason: String) -> APIOutput? {
        guard let old = entries[api]?.output else { return nil }
        quarantined[api] = reason
        entries[api]?.output = .empty
        return old
    }
}

/// A cluster packed for the snapshot, with the digest of its bytes.
struct PackedCluster: Equatable {
    var name: String
    var any: Google_Protobuf_Any
    var digest: String

    init(_ cluster: Envoy_Config_Cluster_V3_Cluster, encoder: ProtoEncoder) throws {
        any = try AnyPacking.pack(cluster, encoder: encoder)
        name = cluster.name
        digest = ContentDigest.of(any.value)
    }
}

enum ContentDigest {
    /// First 16 hex digits of SHA-256.
    static func of(_ data: Data) -> String {
        Hashing.hex(SHA256.hash(data: data).prefix(8))
    }
}
