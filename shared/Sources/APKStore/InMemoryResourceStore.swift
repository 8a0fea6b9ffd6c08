package import APKModel
package import Foundation

/// A ``ResourceStore`` in memory, with the same semantics as ``PostgresResourceStore`` (both pass one conformance
/// suite): for unit tests of the services and for single-process tools. Every operation runs on the actor, so each
/// apply is atomic and events are numbered in commit order.
package actor InMemoryResourceStore: ResourceStore {
    private var resources: [ResourceKey: StoredResource] = [:]
    private var log: [ResourceEvent] = []
    private var lastResourceVersion: Int64 = 0
    private let signal = CursorSignal()
    private let now: @Sendable () -> Date
    private let newUID: @Sendable () -> String

    /// - Parameters:
    ///   - now: the clock for `createdAt`/`updatedAt`.
    ///   - newUID: uid generator for new resources (random UUIDs by default).
    package init(now: @escaping @Sendable () -> Date = { Date() },
                 newUID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() }) {
        self.now = now
        self.newUID = newUID
    }

    package func apply(_ bundle: CRBundle, namespace: String) throws(StoreError) -> ApplyResult {
        let keys = Set(ApplyPlan.keys(of: bundle, namespace: namespace))
        let existing = resources.values.filter { $0.owner == bundle.apiID || keys.contains($0.key) }
        let plan = try ApplyPlan.make(bundle: bundle, namespace: namespace, existing: Array(existing), newUID: newUID)
        let api = try ApplyPlan.validatedAPI(bundle)
        let candidates = resources.values.filter { $0.namespace == namespace && $0.resource.kind == CRKind.api.rawValue }
        if let conflict = ApplyPlan.conflict(for: api, among: candidates) { throw conflict }

        let time = now()
        for write in plan.writes {
            let stored = StoredResource(
                resource: write.resource, namespace: namespace, uid: write.uid, resourceVersion: nextResourceVersion(),
                generation: write.generation, owner: write.owner, status: write.previous?.status,
                createdAt: write.previous?.createdAt ?? time, updatedAt: time)
            resources[stored.key] = stored
            record(write.type, stored)
        }
        for var deleted in plan.deletes {
            resources[deleted.key] = nil
            deleted.resourceVersion = nextResourceVersion()
            record(.deleted, deleted)
        }
        publish()
        return ApplyResult(apiUID: plan.apiUID, created: plan.created, written: plan.writes.count,
                           deleted: plan.deletes.count, cursor: Int64(log.count))
    }

    package func deleteAPI(id: String, namespace: String, organization: String?) -> Bool {
        let apiKey = ResourceKey(kind: CRKind.api.rawValue, namespace: namespace, name: id)
        if let organization {
            guard let api = resources[apiKey], ApplyPlan.organization(of: api.resource) == organization else { return false }
        }
        let children = resources.values.filter { $0.namespace == namespace && $0.owner == id }
            .sorted { ($0.resource.kind, $0.resource.name) < ($1.resource.kind, $1.resource.name) }
        let api = resources[apiKey]
        for var resource in children + (api.map { [$0] } ?? []) {
            resources[resource.key] = nil
            resource.resourceVersion = nextResourceVersion()
            record(.deleted, resource)
        }
        publish()
        return api != nil
    }

    package func applyResource(_ resource: K8sResource, namespace: String) throws(StoreError) -> Int64 {
        let key = ResourceKey(kind: resource.kind, namespace: namespace, name: resource.name)
        guard let write = try ApplyPlan.standalone(resource, namespace: namespace, existing: resources[key], newUID: newUID)
        else { return Int64(log.count) }
        let time = now()
        let stored = StoredResource(
            resource: write.resource, namespace: namespace, uid: write.uid, resourceVersion: nextResourceVersion(),
            generation: write.generation, owner: nil, status: write.previous?.status,
            createdAt: write.previous?.createdAt ?? time, updatedAt: time)
        resources[key] = stored
        record(write.type, stored)
        publish()
        return Int64(log.count)
    }

    package func deleteResource(_ key: ResourceKey) throws(StoreError) -> Bool {
        guard ApplyPlan.standaloneKinds.contains(key.kind) else {
            throw .failed("\(key.kind) resources are deleted with their API, not on their own")
        }
        guard var resource = resources[key] else { return false }
        resources[key] = nil
        resource.resourceVersion = nextResourceVersion()
        record(.deleted, resource)
        publish()
        return true
    }

    package func get(_ key: ResourceKey) -> StoredResource? { resources[key] }

    package func list(kind: String?, namespace: String?, owner: String?) -> [StoredResource] {
        resources.values
            .filter { resource in
                (kind == nil || resource.resource.kind == kind) && (namespace == nil || resource.namespace == namespace)
                    && (owner == nil || resource.owner == owner)
            }
            .sorted { ($0.resource.kind, $0.namespace, $0.resource.name) < ($1.resource.kind, $1.namespace, $1.resource.name) }
    }

    package func updateStatus(_ key: ResourceKey, status: JSONValue) -> Bool {
        guard var resource = resources[key] else { return false }
        let normalized = StoredContent.normalizedStatus(status)
        guard resource.status != normalized else { return true }
        resource.status = normalized
        resource.resourceVersion = nextResourceVersion()
        resource.updatedAt = now()
        resources[key] = resource
        record(.modified, resource)
        publish()
        return true
    }

    package func updateStatuses(_ updates: [(key: ResourceKey, status: JSONValue)]) -> [Bool] {
        updates.map { updateStatus($0.key, status: $0.status) }  // one actor turn: atomic
    }

    package func events(after cursor: Int64, limit: Int) -> [ResourceEvent] {
        guard limit > 0 else { return [] }
        let start = Int(max(cursor, 0))
        guard start < log.count else { return [] }
        return Array(log[start..<min(log.count, start + limit)])
    }

    package func waitForEvents(after cursor: Int64, timeout: Duration) async {
        await signal.wait(after: cursor, timeout: timeout)
    }

    package func latestCursor() -> Int64 { Int64(log.count) }

    // MARK: private

    private func nextResourceVersion() -> Int64 {
        lastResourceVersion += 1
        return lastResourceVersion
    }

    /// Appends an event; cursors are 1, 2, 3, … (the log index + 1).
    private func record(_ type: ResourceEvent.Kind, _ resource: StoredResource) {
        log.append(ResourceEvent(cursor: Int64(log.count + 1), type: type, resource: resource))
    }

    private func publish() { signal.advance(to: Int64(log.count)) }
}
