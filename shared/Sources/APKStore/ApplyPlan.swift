import APKModel

/// What one ``ResourceStore/apply(_:namespace:)`` must write, computed from the bundle and the stored rows it touches.
///
/// Pure, and shared by both backends so that they agree on every decision: which resources changed, their uid,
/// owner and generation, which children are deleted, and whether the base path is taken.
struct ApplyPlan {
    struct Write {
        /// The resource as it will be stored (``StoredContent`` form, ownerReferences set).
        var resource: K8sResource
        var uid: String
        var owner: String?
        var generation: Int64
        /// The stored row this write replaces (nil: the resource is new).
        var previous: StoredResource?

        var key: ResourceKey { ResourceKey(kind: resource.kind, namespace: resource.metadata.namespace ?? "", name: resource.name) }
        var type: ResourceEvent.Kind { previous == nil ? .added : .modified }
    }

    var apiUID: String
    /// True when the API CR did not exist before.
    var created: Bool
    /// Changed or new resources, in bundle order (the API CR first).
    var writes: [Write]
    /// Children of the previous version that the bundle no longer has, ordered by kind and name.
    var deletes: [StoredResource]

    /// Plans an apply. `existing` holds the stored rows of `namespace` that are the API CR, are owned by the API, or
    /// have the key of a bundle resource (other rows are ignored).
    static func make(bundle: CRBundle, namespace: String, existing: [StoredResource], newUID: () -> String) throws(StoreError) -> ApplyPlan {
        let api = try validatedAPI(bundle)
        var stored: [ResourceKey: StoredResource] = [:]
        for row in existing where row.namespace == namespace { stored[row.key] = row }
        let apiKey = ResourceKey(kind: api.kind, namespace: namespace, name: api.name)
        if let existingAPI = stored[apiKey], organization(of: existingAPI.resource) != organization(of: api) {
            throw .apiOfAnotherOrganization(apiID: api.name)
        }
        let apiUID = stored[apiKey]?.uid ?? newUID()
        let ownerReferences = [StoredContent.ownerReference(apiID: bundle.apiID, uid: apiUID)]

        var writes: [Write] = []
        for (index, resource) in bundle.resources.enumerated() {
            let isAPI = index == 0
            let normalized = StoredContent.normalized(
                resource, namespace: namespace, ownerReferences: isAPI ? resource.metadata.ownerReferences : ownerReferences)
            let key = ResourceKey(kind: normalized.kind, namespace: namespace, name: normalized.name)
            let owner = isAPI ? nil : bundle.apiID
            let previous = stored[key]
            if !isAPI, let previous, previous.owner != owner {
                throw .nameTaken(kind: normalized.kind, name: normalized.name, owner: previous.owner)
            }
            if let previous, previous.resource == normalized, previous.owner == owner { continue }
            let generation = previous.map { $0.generation + ($0.resource.body == normalized.body ? 0 : 1) } ?? 1
            writes.append(
                Write(resource: normalized, uid: isAPI ? apiUID : (previous?.uid ?? newUID()), owner: owner,
                      generation: generation, previous: previous))
        }
        let bundleKeys = Set(keys(of: bundle, namespace: namespace))
        let deletes = stored.values
            .filter { $0.owner == bundle.apiID && !bundleKeys.contains($0.key) }
            .sorted { ($0.resource.kind, $0.resource.name) < ($1.resource.kind, $1.resource.name) }
        return ApplyPlan(apiUID: apiUID, created: stored[apiKey] == nil, writes: writes, deletes: deletes)
    }

    /// Kinds written one by one, owned by no API (``ResourceStore/applyResource(_:namespace:)``): the control-plane
    /// subscription data and the organizations' token issuers.
    package static let standaloneKinds: Set<String> = [
        CRKind.application.rawValue, CRKind.subscription.rawValue, CRKind.applicationMapping.rawValue,
        CRKind.tokenIssuer.rawValue,
    ]

    /// The write of one standalone resource over `existing` (its stored row, if any); nil when nothing changes.
    static func standalone(
        _ resource: K8sResource, namespace: String, existing: StoredResource?, newUID: () -> String
    ) throws(StoreError) -> Write? {
        guard standaloneKinds.contains(resource.kind) else {
            throw .failed("\(resource.kind) resources are written with their API, not on their own")
        }
        guard !resource.name.isEmpty, resource.name.utf8.count <= 253 else {
            throw .failed("a \(resource.kind) resource needs a name of 1…253 characters")
        }
        guard resource.spec?.objectValue != nil else { throw .failed("\(resource.kind) \(resource.name) has no spec object") }
        if let owner = existing?.owner { throw .failed("\(resource.kind) \(resource.name) belongs to API \(owner)") }
        let normalized = StoredContent.normalized(resource, namespace: namespace, ownerReferences: nil)
        if let existing, existing.resource == normalized { return nil }
        let generation = existing.map { $0.generation + ($0.resource.body == normalized.body ? 0 : 1) } ?? 1
        return Write(resource: normalized, uid: existing?.uid ?? newUID(), owner: nil, generation: generation, previous: existing)
    }

    /// The bundle's API CR after checking the bundle's shape: the API CR first, named by `apiID`, no second API CR,
    /// no duplicate kind and name, no empty name.
    static func validatedAPI(_ bundle: CRBundle) throws(StoreError) -> K8sResource {
        guard let api = bundle.resources.first, api.kind == CRKind.api.rawValue else {
            throw .failed("a bundle must start with its API resource")
        }
        guard api.name == bundle.apiID else { throw .failed("the API resource is not named by the bundle's API id") }
        var seen: Set<String> = []
        for (index, resource) in bundle.resources.enumerated() {
            guard !resource.name.isEmpty else { throw .failed("a \(resource.kind) resource has no name") }
            guard index == 0 || resource.kind != CRKind.api.rawValue else {
                throw .failed("a bundle holds exactly one API resource")
            }
            guard seen.insert("\(resource.kind)/\(resource.name)").inserted else {
                throw .failed("the bundle holds \(resource.kind) \(resource.name) twice")
            }
        }
        return api
    }

    /// The keys of a bundle's resources in `namespace`, in bundle order.
    static func keys(of bundle: CRBundle, namespace: String) -> [ResourceKey] {
        bundle.resources.map { ResourceKey(kind: $0.kind, namespace: namespace, name: $0.name) }
    }

    /// The `spec.basePath` of an API CR (nil when it has none: no conflict check then).
    static func basePath(of api: K8sResource) -> String? { api.spec?["basePath"]?.stringValue }

    /// A ``StoreError/basePathConflict(apiID:basePath:)`` when another API CR among `candidates` (stored API CRs of
    /// the same namespace) has the same organization, base path and environment as `api`.
    static func conflict(for api: K8sResource, among candidates: [StoredResource]) -> StoreError? {
        guard let basePath = basePath(of: api) else { return nil }
        let identity = routingIdentity(api)
        for candidate in candidates
        where candidate.resource.kind == CRKind.api.rawValue && candidate.resource.name != api.name
            && Self.basePath(of: candidate.resource) == basePath && routingIdentity(candidate.resource) == identity
        {
            return .basePathConflict(apiID: candidate.resource.name, basePath: basePath)
        }
        return nil
    }

    /// Organization and environment (a missing environment equals an empty one).
    private static func routingIdentity(_ api: K8sResource) -> [String] {
        [organization(of: api), api.spec?["environment"]?.stringValue ?? ""]
    }

    /// The `spec.organization` of an API CR ("" when absent).
    static func organization(of api: K8sResource) -> String { api.spec?["organization"]?.stringValue ?? "" }
}
