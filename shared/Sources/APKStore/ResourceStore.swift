package import APKModel
package import Foundation

/// Control-plane state: the CRs of deployed APIs, a change feed, and per-resource status.
///
/// Two backends share these semantics (and one conformance test suite): ``PostgresResourceStore`` (local stack,
/// docker-compose) and ``InMemoryResourceStore`` (unit tests). A Kubernetes-API backend comes later.
package protocol ResourceStore: Sendable {
    /// Applies one API's whole bundle atomically: creates or replaces the API CR and every child, gives children an
    /// ownerReference to the API (its stored uid), and deletes the API's children that are not in the bundle.
    /// Fails with ``StoreError/basePathConflict(apiID:basePath:)`` when another API of the same organization and
    /// environment already owns the base path, with ``StoreError/apiOfAnotherOrganization(apiID:)`` when the API id
    /// belongs to another organization, and with ``StoreError/nameTaken(kind:name:owner:)`` when a child has the name
    /// of a resource another API owns (or of a standalone resource). These checks run in the write transaction, so
    /// concurrent deploys cannot take over each other's resources. Nothing is written when it throws.
    func apply(_ bundle: CRBundle, namespace: String) async throws(StoreError) -> ApplyResult

    /// Deletes an API CR and all its children atomically; `false` when no such API exists in the namespace or, with
    /// an `organization`, when the API belongs to another organization (checked in the same transaction).
    func deleteAPI(id: String, namespace: String, organization: String?) async throws(StoreError) -> Bool

    /// One resource, or nil.
    /// Creates or replaces one resource of a standalone kind (``ApplyPlan/standaloneKinds``: the subscription data)
    /// owned by no API, as `kubectl apply` would; returns the store cursor after it (unchanged content: no event).
    func applyResource(_ resource: K8sResource, namespace: String) async throws(StoreError) -> Int64

    /// Deletes one resource of a standalone kind; false when it did not exist.
    func deleteResource(_ key: ResourceKey) async throws(StoreError) -> Bool

    func get(_ key: ResourceKey) async throws(StoreError) -> StoredResource?

    /// Resources filtered by kind, namespace and owning API (each filter optional), ordered by kind, namespace, name.
    func list(kind: String?, namespace: String?, owner: String?) async throws(StoreError) -> [StoredResource]

    /// Replaces a resource's `status` (not its spec); emits a MODIFIED event. False when the resource is gone.
    func updateStatus(_ key: ResourceKey, status: JSONValue) async throws(StoreError) -> Bool

    /// ``updateStatus(_:status:)`` for many resources at once (atomically where the store can); one result each.
    func updateStatuses(_ updates: [(key: ResourceKey, status: JSONValue)]) async throws(StoreError) -> [Bool]

    /// Change events with a cursor greater than `cursor`, oldest first, at most `limit`.
    func events(after cursor: Int64, limit: Int) async throws(StoreError) -> [ResourceEvent]

    /// Returns once an event newer than `cursor` may exist, or after `timeout` (callers then poll ``events``).
    func waitForEvents(after cursor: Int64, timeout: Duration) async throws(StoreError)

    /// The newest event cursor (0 when there are no events).
    func latestCursor() async throws(StoreError) -> Int64
}

/// Identity of a stored resource.
package struct ResourceKey: Sendable, Hashable, Codable, CustomStringConvertible {
    package var kind: String
    package var namespace: String
    package var name: String

    package init(kind: String, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    package var description: String { "\(kind)/\(namespace)/\(name)" }
}

/// A resource as stored: the object plus server-maintained fields.
package struct StoredResource: Sendable, Hashable {
    package var resource: K8sResource
    package var namespace: String
    package var uid: String
    /// Global, strictly increasing across all resources; changes on every write.
    package var resourceVersion: Int64
    /// Increments when the spec (not the status) changes.
    package var generation: Int64
    /// The owning API's name (nil for the API CR itself and for resources without an owner).
    package var owner: String?
    package var status: JSONValue?
    package var createdAt: Date
    package var updatedAt: Date

    package init(resource: K8sResource, namespace: String, uid: String, resourceVersion: Int64, generation: Int64,
                 owner: String?, status: JSONValue?, createdAt: Date, updatedAt: Date) {
        self.resource = resource
        self.namespace = namespace
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.generation = generation
        self.owner = owner
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    package var key: ResourceKey { ResourceKey(kind: resource.kind, namespace: namespace, name: resource.name) }
}

/// What ``ResourceStore/apply(_:namespace:)`` did.
package struct ApplyResult: Sendable, Hashable {
    package var apiUID: String
    /// True when the API CR did not exist before.
    package var created: Bool
    /// Resources whose stored content changed or that were added.
    package var written: Int
    /// Children of the previous version that were deleted.
    package var deleted: Int
    /// The event cursor after this apply (watchers that reach it have seen the whole bundle).
    package var cursor: Int64

    package init(apiUID: String, created: Bool, written: Int, deleted: Int, cursor: Int64) {
        self.apiUID = apiUID
        self.created = created
        self.written = written
        self.deleted = deleted
        self.cursor = cursor
    }
}

/// One change in the feed. `cursor` orders all events; resume a watch from the last cursor seen.
package struct ResourceEvent: Sendable, Hashable {
    package enum Kind: String, Sendable, Hashable, Codable { case added = "ADDED", modified = "MODIFIED", deleted = "DELETED" }

    package var cursor: Int64
    package var type: Kind
    /// The resource after the change (for DELETED: as it was before deletion).
    package var resource: StoredResource

    package init(cursor: Int64, type: Kind, resource: StoredResource) {
        self.cursor = cursor
        self.type = type
        self.resource = resource
    }
}

/// Store failures, each with the APK error it maps to at the REST edge.
package enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Another API of the same organization and environment owns the base path (406 909015).
    case basePathConflict(apiID: String, basePath: String)
    /// The database is unreachable or timed out (503); the service recovers when it returns.
    case unavailable(String)
    /// Stored data could not be read back (500).
    case corrupt(String)
    /// The API id is taken by an API of another organization (409).
    case apiOfAnotherOrganization(apiID: String)
    /// A resource of the bundle has the name of a resource owned by another API (`owner`), or of a standalone
    /// resource (`owner` nil) (409).
    case nameTaken(kind: String, name: String, owner: String?)
    /// A constraint of the stored data was violated (500).
    case failed(String)

    package var description: String {
        switch self {
        case .basePathConflict(let id, let path): "base path \(path) is already used by API \(id)"
        case .unavailable(let reason): "the control-plane database is unavailable: \(reason)"
        case .corrupt(let reason): "stored data is unreadable: \(reason)"
        case .apiOfAnotherOrganization(let id): "API \(id) belongs to another organization"
        case .nameTaken(let kind, let name, let owner?): "\(kind) \(name) belongs to API \(owner)"
        case .nameTaken(let kind, let name, nil): "\(kind) \(name) exists and belongs to no API"
        case .failed(let reason): "the store operation failed: \(reason)"
        }
    }
}

extension ResourceStore {
    /// Deletes an API whatever its organization.
    package func deleteAPI(id: String, namespace: String) async throws(StoreError) -> Bool {
        try await deleteAPI(id: id, namespace: namespace, organization: nil)
    }

    /// One ``updateStatus(_:status:)`` after the other (stores that can do better override it).
    package func updateStatuses(_ updates: [(key: ResourceKey, status: JSONValue)]) async throws(StoreError) -> [Bool] {
        var found: [Bool] = []
        for (key, status) in updates { found.append(try await updateStatus(key, status: status)) }
        return found
    }
}
