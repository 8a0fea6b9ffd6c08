import APKModel
package import APKStore

/// The watched namespace as the adapter last saw it: every stored resource by (kind, name), which APIs read which
/// resources, and the store cursor. Only store events change it; the per-API translations read it, and every
/// discovery snapshot (Envoy's now, the enforcer's and the ratelimiter's next) is built from what it holds.
package struct ResourceIndex {
    /// What identifies the content of a stored resource for translation: status-only writes change neither.
    struct Input: Hashable {
        var uid: String
        var generation: Int64
    }

    package let namespace: String
    private var objects: [ReferenceKey: StoredResource] = [:]
    /// Resource → the APIs whose translation read it.
    private var referencedBy: [ReferenceKey: Set<String>] = [:]
    /// ``ReferenceKey/targeting(_:api:)`` → the resources attached to that API by `spec.targetRef`.
    private var attached: [ReferenceKey: Set<ReferenceKey>] = [:]
    /// Members of each kind-wide kind (``ReferenceKey/kindWideKinds``), and a counter bumped by every change to
    /// one of them (the input of an ``ReferenceKey/all(_:)`` reference).
    private var kindMembers: [String: Set<ReferenceKey>] = [:]
    private var kindVersions: [String: Int64] = [:]
    /// The store cursor the index reflects.
    package private(set) var cursor: Int64 = 0

    package init(namespace: String) {
        self.namespace = namespace
    }

    package subscript(key: ReferenceKey) -> StoredResource? { objects[key] }

    /// A counter that moves whenever a resource of the kind-wide `kind` changes (0 before any).
    func kindVersion(_ kind: String) -> Int64 { kindVersions[kind] ?? 0 }

    /// The names of every stored API.
    var apiNames: Set<String> { Set(objects.keys.filter { $0.kind == CRKind.api.rawValue }.map(\.name)) }

    /// The stored API CR of that name.
    func api(named name: String) -> StoredResource? { objects[ReferenceKey(kind: CRKind.api.rawValue, name: name)] }

    /// A lookup over a copy of the current resources (what a translator reads).
    var lookup: ResourceLookup {
        let objects = objects
        let attached = attached
        let kindMembers = kindMembers
        return ResourceLookup(
            resource: { objects[$0]?.resource },
            targeting: { kind, api in
                (attached[.targeting(kind, api: api)] ?? []).sorted().compactMap { objects[$0]?.resource }
            },
            ofKind: { kind in (kindMembers[kind] ?? []).sorted().compactMap { objects[$0]?.resource } })
    }

    /// The targeting reference of a resource attached to an API by `spec.targetRef`.
    private static func attachment(of stored: StoredResource) -> ReferenceKey? {
        ResourceLookup.targetAPI(of: stored.resource).map { .targeting(stored.resource.kind, api: $0) }
    }

    private mutating func store(_ stored: StoredResource?, at key: ReferenceKey) {
        if let old = objects[key], let attachment = Self.attachment(of: old) {
            attached[attachment]?.remove(key)
            if attached[attachment]?.isEmpty == true { attached[attachment] = nil }
        }
        objects[key] = stored
        if let stored, let attachment = Self.attachment(of: stored) { attached[attachment, default: []].insert(key) }
        if ReferenceKey.kindWideKinds.contains(key.kind) {
            if stored == nil { kindMembers[key.kind]?.remove(key) } else { kindMembers[key.kind, default: []].insert(key) }
            kindVersions[key.kind, default: 0] += 1
        }
    }

    /// Replaces everything with a listed state (start-up or relist); returns every stored API.
    mutating func load(_ snapshot: ResourceSnapshot) -> Set<String> {
        objects = [:]
        referencedBy = [:]
        attached = [:]
        kindMembers = [:]
        for kind in ReferenceKey.kindWideKinds { kindVersions[kind, default: 0] += 1 }  // a relist is a change
        for resource in snapshot.resources.values where resource.namespace == namespace {
            store(resource, at: ReferenceKey(kind: resource.resource.kind, name: resource.resource.name))
        }
        cursor = snapshot.cursor
        return apiNames
    }

    /// Applies store events (any order of kinds; events of other namespaces and stale events are ignored); returns
    /// the APIs that may need translating again: changed APIs, owners of changed resources, and readers of them.
    mutating func apply(_ events: [ResourceEvent]) -> Set<String> {
        var dirty: Set<String> = []
        for event in events {
            cursor = max(cursor, event.cursor)
            let stored = event.resource
            guard stored.namespace == namespace else { continue }
            let key = ReferenceKey(kind: stored.resource.kind, name: stored.resource.name)
            if let held = objects[key], held.resourceVersion >= stored.resourceVersion, event.type != .deleted { continue }
            // Readers of the attachment set it left and of the one it joins (a targetRef may change).
            for attachment in [objects[key].flatMap(Self.attachment), Self.attachment(of: stored)].compactMap(\.self) {
                dirty.formUnion(referencedBy[attachment] ?? [])
            }
            switch event.type {
            case .added, .modified: store(stored, at: key)
            case .deleted: store(nil, at: key)
            }
            if key.kind == CRKind.api.rawValue { dirty.insert(key.name) }
            if let owner = stored.owner { dirty.insert(owner) }
            dirty.formUnion(referencedBy[key] ?? [])
            if ReferenceKey.kindWideKinds.contains(key.kind) { dirty.formUnion(referencedBy[.all(key.kind)] ?? []) }
        }
        return dirty
    }

    /// Records which resources an API's translation read now (empty: the API is gone).
    mutating func setReferences(of api: String, from old: Set<ReferenceKey>, to new: Set<ReferenceKey>) {
        for reference in old.subtracting(new) {
            referencedBy[reference]?.remove(api)
            if referencedBy[reference]?.isEmpty == true { referencedBy[reference] = nil }
        }
        for reference in new { referencedBy[reference, default: []].insert(api) }
    }

    /// uid + generation of each reference (nil: it does not exist); for a targeting reference, which resources are
    /// attached (their own inputs are references of their own).
    func inputs(of references: Set<ReferenceKey>) -> [ReferenceKey: Input?] {
        var inputs: [ReferenceKey: Input?] = [:]
        for reference in references {
            if let kind = reference.allOfKind {
                inputs[reference] = Input(uid: "*", generation: kindVersions[kind] ?? 0)
            } else if reference.targetingParts != nil {
                let members = (attached[reference] ?? []).sorted().map(\.name)
                inputs[reference] = Input(uid: members.joined(separator: "\u{0}"), generation: Int64(members.count))
            } else {
                inputs[reference] = objects[reference].map { Input(uid: $0.uid, generation: $0.generation) }
            }
        }
        return inputs
    }
}
