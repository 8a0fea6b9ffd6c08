import APKModel
import APKStore
import Foundation
import Testing

/// The behaviours every ``ResourceStore`` backend must show; ``InMemoryStoreConformanceTests`` and
/// ``PostgresStoreConformanceTests`` run each one against their backend.
enum ConformanceCheck: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case applyCreatesRowsAndEvents
    case reapplyIsNoOp
    case smallerBundleDeletesMissingChildren
    case deleteAPI
    case basePathConflictLeavesStateUnchanged
    case ownershipCannotBeTaken
    case concurrentDeploysOfTwoOrganizations
    case twoOrganizationsSameAPI
    case ownerReferencesAndUIDStable
    case eventsResumeFromCursor
    case concurrentApplies
    case statusUpdates
    case fixtureBundlesRoundTrip
    case watcherListThenWatch
    case controlPlaneRoundTrip
    case standaloneResources

    var testDescription: String { rawValue }
}

struct ResourceStoreConformance {
    let store: any ResourceStore
    let controlPlane: any ControlPlaneStore
    let namespace = "apk-test"

    func run(_ check: ConformanceCheck) async throws {
        switch check {
        case .applyCreatesRowsAndEvents: try await applyCreatesRowsAndEvents()
        case .standaloneResources: try await standaloneResources()
        case .reapplyIsNoOp: try await reapplyIsNoOp()
        case .smallerBundleDeletesMissingChildren: try await smallerBundleDeletesMissingChildren()
        case .deleteAPI: try await deleteAPI()
        case .basePathConflictLeavesStateUnchanged: try await basePathConflictLeavesStateUnchanged()
        case .ownershipCannotBeTaken: try await ownershipCannotBeTaken()
        case .concurrentDeploysOfTwoOrganizations: try await concurrentDeploysOfTwoOrganizations()
        case .twoOrganizationsSameAPI: try await twoOrganizationsSameAPI()
        case .ownerReferencesAndUIDStable: try await ownerReferencesAndUIDStable()
        case .eventsResumeFromCursor: try await eventsResumeFromCursor()
        case .concurrentApplies: try await concurrentApplies()
        case .statusUpdates: try await statusUpdates()
        case .fixtureBundlesRoundTrip: try await fixtureBundlesRoundTrip()
        case .watcherListThenWatch: try await watcherListThenWatch()
        case .controlPlaneRoundTrip: try await ControlPlaneConformance(store: controlPlane).run()
        }
    }

    // MARK: helpers

    func state() async throws -> [StoredResource] { try await store.list(kind: nil, namespace: namespace, owner: nil) }

    func events(after cursor: Int64) async throws -> [ResourceEvent] { try await store.events(after: cursor, limit: 100_000) }

    /// The stored resources of one API (API CR first, then children), as bare resources keyed by kind/name.
    func stored(apiID: String) async throws -> [String: K8sResource] {
        var result: [String: K8sResource] = [:]
        let api = try await store.get(ResourceKey(kind: "API", namespace: namespace, name: apiID))
        for resource in try await store.list(kind: nil, namespace: namespace, owner: apiID) + (api.map { [$0] } ?? []) {
            result["\(resource.resource.kind)/\(resource.resource.name)"] = resource.resource
        }
        return result
    }

    func expectedByKey(_ bundle: CRBundle, uid: String) -> [String: K8sResource] {
        Dictionary(uniqueKeysWithValues: TestBundles.expected(bundle, namespace: namespace, uid: uid).map { ("\($0.kind)/\($0.name)", $0) })
    }

    func expectStrictlyIncreasing(_ events: [ResourceEvent], sourceLocation: SourceLocation = #_sourceLocation) {
        let cursors = events.map(\.cursor)
        #expect(zip(cursors, cursors.dropFirst()).allSatisfy { $0 < $1 }, "cursors not strictly increasing", sourceLocation: sourceLocation)
        let versions = events.map(\.resource.resourceVersion)
        #expect(zip(versions, versions.dropFirst()).allSatisfy { $0 < $1 }, "resource versions not increasing", sourceLocation: sourceLocation)
    }

    // MARK: checks

    func applyCreatesRowsAndEvents() async throws {
        let start = try await store.latestCursor()
        let bundle = TestBundles.make(id: "api-a")
        let result = try await store.apply(bundle, namespace: namespace)
        #expect(result.created)
        #expect(result.written == bundle.resources.count)
        #expect(result.deleted == 0)
        #expect(result.cursor == (try await store.latestCursor()))
        #expect(!result.apiUID.isEmpty)

        let stored = try await state()
        #expect(try await self.stored(apiID: "api-a") == expectedByKey(bundle, uid: result.apiUID))
        #expect(stored.count == bundle.resources.count)
        #expect(stored.allSatisfy { $0.generation == 1 && $0.status == nil && $0.namespace == namespace })
        #expect(stored.filter { $0.resource.kind == "API" }.allSatisfy { $0.owner == nil && $0.uid == result.apiUID })
        #expect(stored.filter { $0.resource.kind != "API" }.allSatisfy { $0.owner == "api-a" })
        #expect(Set(stored.map(\.uid)).count == stored.count, "uids are unique")
        #expect(Set(stored.map(\.resourceVersion)).count == stored.count, "every write gets its own resource version")

        let events = try await events(after: start)
        #expect(events.count == bundle.resources.count)
        #expect(events.allSatisfy { $0.type == .added })
        #expect(events.map(\.resource.resource.name) == bundle.resources.map(\.name), "events follow bundle order")
        #expect(events.last?.cursor == result.cursor)
        expectStrictlyIncreasing(events)
        let byKey = Dictionary(uniqueKeysWithValues: stored.map { ($0.key, $0) })
        #expect(events.allSatisfy { byKey[$0.resource.key] == $0.resource }, "event objects equal the stored rows")
    }

    func reapplyIsNoOp() async throws {
        let bundle = TestBundles.make(id: "api-a")
        let first = try await store.apply(bundle, namespace: namespace)
        let before = try await state()
        let again = try await store.apply(bundle, namespace: namespace)
        #expect(again == ApplyResult(apiUID: first.apiUID, created: false, written: 0, deleted: 0, cursor: first.cursor))
        let reordered = try await store.apply(TestBundles.reordered(bundle), namespace: namespace)
        #expect(reordered.written == 0, "key order alone is not a change")
        #expect(try await state() == before, "rows, versions and timestamps untouched")
        #expect(try await events(after: first.cursor).isEmpty)
        #expect(try await store.latestCursor() == first.cursor)
    }

    func smallerBundleDeletesMissingChildren() async throws {
        let v1 = TestBundles.make(id: "api-a")
        let other = TestBundles.make(id: "api-b")
        let first = try await store.apply(v1, namespace: namespace)
        _ = try await store.apply(other, namespace: namespace)
        let otherBefore = try await stored(apiID: "api-b")
        let cursor = try await store.latestCursor()
        let before = Dictionary(uniqueKeysWithValues: try await state().map { ($0.key, $0) })

        // Same API spec, route-1 changed (revision 2), route-2 and the scope dropped.
        var v2 = TestBundles.make(id: "api-a", children: [(.configMap, "definition"), (.backend, "backend"), (.httpRoute, "route-1")])
        v2.resources[0] = v1.resources[0]
        v2.resources[1] = v1.resources[1]
        v2.resources[2] = v1.resources[3]
        v2.resources[3] = TestBundles.make(id: "api-a", revision: 2).resources[4]
        let result = try await store.apply(v2, namespace: namespace)
        #expect(!result.created)
        #expect(result.written == 1)
        #expect(result.deleted == 2)
        #expect(try await stored(apiID: "api-a") == expectedByKey(v2, uid: first.apiUID))
        #expect(try await stored(apiID: "api-b") == otherBefore, "another API's children are untouched")

        let events = try await events(after: cursor)
        #expect(events.map { "\($0.type.rawValue) \($0.resource.resource.name)" }
            == ["MODIFIED api-a-route-1", "DELETED api-a-route-2", "DELETED api-a-scope"])
        expectStrictlyIncreasing(events)
        let route = try #require(try await store.get(ResourceKey(kind: "HTTPRoute", namespace: namespace, name: "api-a-route-1")))
        let old = try #require(before[route.key])
        #expect(route.generation == old.generation + 1)
        #expect(route.uid == old.uid)
        #expect(route.createdAt == old.createdAt)
        let backend = try #require(try await store.get(ResourceKey(kind: "Backend", namespace: namespace, name: "api-a-backend")))
        #expect(backend == before[backend.key], "unchanged children keep their version")
        let deleted = try #require(events.last)
        #expect(deleted.resource.resource == before[deleted.resource.key]?.resource, "DELETED carries the last state")
    }

    func deleteAPI() async throws {
        let a = TestBundles.make(id: "api-a")
        let b = TestBundles.make(id: "api-b")
        _ = try await store.apply(a, namespace: namespace)
        _ = try await store.apply(b, namespace: namespace)
        let bBefore = try await stored(apiID: "api-b")
        let cursor = try await store.latestCursor()

        #expect(try await store.deleteAPI(id: "api-a", namespace: namespace))
        #expect(try await stored(apiID: "api-a").isEmpty)
        #expect(try await stored(apiID: "api-b") == bBefore)
        let events = try await events(after: cursor)
        #expect(events.count == a.resources.count)
        #expect(events.allSatisfy { $0.type == .deleted })
        #expect(events.last?.resource.resource.kind == "API", "children first, the API last")
        expectStrictlyIncreasing(events)

        let after = try await store.latestCursor()
        #expect(try await store.deleteAPI(id: "api-a", namespace: namespace) == false)
        #expect(try await store.deleteAPI(id: "api-b", namespace: "elsewhere") == false)
        #expect(try await store.latestCursor() == after, "deleting nothing emits nothing")
    }

    func basePathConflictLeavesStateUnchanged() async throws {
        _ = try await store.apply(TestBundles.make(id: "api-a", basePath: "/shared/1"), namespace: namespace)
        let before = try await state()
        let cursor = try await store.latestCursor()

        let clash = TestBundles.make(id: "api-b", basePath: "/shared/1")
        await #expect(throws: StoreError.basePathConflict(apiID: "api-a", basePath: "/shared/1")) {
            try await store.apply(clash, namespace: namespace)
        }
        #expect(try await state() == before)
        #expect(try await store.latestCursor() == cursor)

        // Not conflicts: another organization, another environment, another namespace, the same API again.
        _ = try await store.apply(TestBundles.make(id: "api-c", organization: "org2", basePath: "/shared/1"), namespace: namespace)
        _ = try await store.apply(TestBundles.make(id: "api-d", basePath: "/shared/1", environment: "dev"), namespace: namespace)
        _ = try await store.apply(clash, namespace: "other-namespace")
        _ = try await store.apply(TestBundles.make(id: "api-a", basePath: "/shared/1", revision: 2), namespace: namespace)
        await #expect(throws: StoreError.basePathConflict(apiID: "api-d", basePath: "/shared/1")) {
            try await store.apply(TestBundles.make(id: "api-e", basePath: "/shared/1", environment: "dev"), namespace: namespace)
        }
    }

    /// Issue 13 item 6: an API id of another organization, or a child name another API owns, is refused without a
    /// change; an organization-scoped delete leaves another organization's API alone.
    func ownershipCannotBeTaken() async throws {
        _ = try await store.apply(TestBundles.make(id: "api-a"), namespace: namespace)
        let before = try await state()
        let cursor = try await store.latestCursor()

        await #expect(throws: StoreError.apiOfAnotherOrganization(apiID: "api-a")) {
            try await store.apply(TestBundles.make(id: "api-a", organization: "org2", basePath: "/org2"), namespace: namespace)
        }
        var clash = TestBundles.make(id: "api-b")
        let backend = try #require(clash.resources.firstIndex { $0.kind == "Backend" })
        clash.resources[backend].metadata.name = "api-a-backend"
        await #expect(throws: StoreError.nameTaken(kind: "Backend", name: "api-a-backend", owner: "api-a")) {
            try await store.apply(clash, namespace: namespace)
        }
        #expect(try await store.deleteAPI(id: "api-a", namespace: namespace, organization: "org2") == false)
        #expect(try await state() == before)
        #expect(try await store.latestCursor() == cursor)

        // The same names in another namespace are other resources; the owner may still delete its API.
        _ = try await store.apply(clash, namespace: "other-namespace")
        #expect(try await store.deleteAPI(id: "api-a", namespace: namespace, organization: "default"))
    }

    /// Two organizations deploy the same API id at once, many times: one organization gets it and keeps it, every
    /// deploy of the other is refused, and every stored child belongs to the winner's API.
    func concurrentDeploysOfTwoOrganizations() async throws {
        let results = await withTaskGroup(of: (String, Bool).self) { group in
            for round in 0..<10 {
                for organization in ["org1", "org2"] {
                    group.addTask {
                        let bundle = TestBundles.make(
                            id: "contested", organization: organization, basePath: "/\(organization)", revision: round)
                        do {
                            _ = try await store.apply(bundle, namespace: namespace)
                            return (organization, true)
                        } catch {
                            return (organization, false)
                        }
                    }
                }
            }
            var results: [(String, Bool)] = []
            for await result in group { results.append(result) }
            return results
        }
        let api = try #require(try await store.get(ResourceKey(kind: "API", namespace: namespace, name: "contested")))
        let winner = try #require(api.resource.spec?["organization"]?.stringValue)
        #expect(results.filter { $0.0 == winner }.allSatisfy { $0.1 }, "every deploy of the owner succeeds")
        #expect(results.filter { $0.0 != winner }.allSatisfy { !$0.1 }, "no deploy of the other organization succeeds")
        #expect(api.resource.spec?["basePath"]?.stringValue == "/\(winner)")
        let children = try await store.list(kind: nil, namespace: namespace, owner: "contested")
        #expect(children.count == TestBundles.defaultChildren.count)
    }

    /// Issue 13 item 6: two organizations deploy the same apk-confs without an `id` (every child kind, AI rate limits
    /// included): no resource name is shared, both deploys succeed, and undeploying one leaves the other's resources
    /// as they were. (With the same `id`, the second organization is refused: ``ownershipCannotBeTaken()``.)
    func twoOrganizationsSameAPI() async throws {
        for name in TestBundles.fixtureNames {
            let first = try TestBundles.fixture(name, organization: "org1", withoutID: true)
            let second = try TestBundles.fixture(name, organization: "org2", withoutID: true)
            let firstKeys = Set(first.resources.map { "\($0.kind)/\($0.name)" })
            let shared = second.resources.map { "\($0.kind)/\($0.name)" }.filter(firstKeys.contains)
            #expect(shared.isEmpty, "\(name): shared names \(shared)")
            _ = try await store.apply(first, namespace: namespace)
            _ = try await store.apply(second, namespace: namespace)
            let secondBefore = try await stored(apiID: second.apiID)
            #expect(secondBefore.count == second.resources.count)
            #expect(try await store.deleteAPI(id: first.apiID, namespace: namespace, organization: "org1"))
            #expect(try await stored(apiID: second.apiID) == secondBefore)
            #expect(try await store.deleteAPI(id: second.apiID, namespace: namespace, organization: "org2"))
        }
    }

    func ownerReferencesAndUIDStable() async throws {
        let first = try await store.apply(TestBundles.make(id: "api-a"), namespace: namespace)
        let expectedReference = StoredContent.ownerReference(apiID: "api-a", uid: first.apiUID)
        #expect(expectedReference.controller == true && expectedReference.blockOwnerDeletion == true)
        #expect(expectedReference.apiVersion == "dp.wso2.com/v1alpha3" && expectedReference.kind == "API")
        let children = try await store.list(kind: nil, namespace: namespace, owner: "api-a")
        #expect(children.allSatisfy { $0.resource.metadata.ownerReferences == [expectedReference] })
        let uids = Dictionary(uniqueKeysWithValues: children.map { ($0.key, $0.uid) })

        let second = try await store.apply(TestBundles.make(id: "api-a", revision: 2), namespace: namespace)
        #expect(second.apiUID == first.apiUID)
        #expect(!second.created)
        let after = try await store.list(kind: nil, namespace: namespace, owner: "api-a")
        #expect(after.allSatisfy { $0.resource.metadata.ownerReferences == [expectedReference] && uids[$0.key] == $0.uid })

        #expect(try await store.deleteAPI(id: "api-a", namespace: namespace))
        let third = try await store.apply(TestBundles.make(id: "api-a"), namespace: namespace)
        #expect(third.created)
        #expect(third.apiUID != first.apiUID, "a re-created API is a new object")
    }

    /// Subscription data is written one resource at a time, owned by no API: created with generation 1 and an
    /// ADDED event, replaced (same uid, generation + 1, MODIFIED), re-applied unchanged (no event), deleted (DELETED);
    /// kinds that belong to an API bundle, and a name of an API-owned resource, are refused without a change.
    func standaloneResources() async throws {
        let subscription = K8sResource(
            apiVersion: "cp.wso2.com/v1alpha3", kind: "Subscription", metadata: ObjectMeta(name: "sub-1"),
            body: JSONObject([("spec", .object(JSONObject([
                ("subscriptionStatus", "ACTIVE"), ("organization", "default"),
                ("api", .object(JSONObject([("name", "orders"), ("version", "1.0")]))),
            ])))]))
        let start = try await store.latestCursor()
        let created = try await store.applyResource(subscription, namespace: namespace)
        #expect(created > start)
        let key = ResourceKey(kind: "Subscription", namespace: namespace, name: "sub-1")
        let first = try #require(try await store.get(key))
        #expect(first.generation == 1 && first.owner == nil)
        #expect(try await store.applyResource(subscription, namespace: namespace) == created, "unchanged: no event")
        var blocked = subscription
        blocked.body["spec"] = .object(JSONObject([
            ("subscriptionStatus", "BLOCKED"), ("organization", "default"),
            ("api", .object(JSONObject([("name", "orders"), ("version", "1.0")]))),
        ]))
        _ = try await store.applyResource(blocked, namespace: namespace)
        let second = try #require(try await store.get(key))
        #expect(second.uid == first.uid && second.generation == 2)
        #expect(second.resource.spec?["subscriptionStatus"]?.stringValue == "BLOCKED")
        #expect(try await store.deleteResource(key))
        #expect(try await store.get(key) == nil)
        #expect(try await !store.deleteResource(key))
        let events = try await store.events(after: start, limit: 100).filter { $0.resource.key == key }
        #expect(events.map(\.type) == [.added, .modified, .deleted])

        let before = try await store.latestCursor()
        var route = subscription
        route.kind = "HTTPRoute"
        await #expect(throws: StoreError.self) { try await store.applyResource(route, namespace: namespace) }
        await #expect(throws: StoreError.self) {
            try await store.deleteResource(ResourceKey(kind: "API", namespace: namespace, name: "sub-1"))
        }
        var nameless = subscription
        nameless.metadata.name = ""
        await #expect(throws: StoreError.self) { try await store.applyResource(nameless, namespace: namespace) }
        #expect(try await store.latestCursor() == before, "refusals change nothing")
    }
}
