import APKModel
import Foundation
import PostgresNIO

/// Column lists and row decoding shared by the Postgres stores' queries.
enum PostgresRows {
    /// The columns of a `resources` row, in the order ``resource(_:)`` decodes them.
    static let resourceColumns =
        "kind, namespace, name, api_version, uid, resource_version, generation, metadata::text, owner, spec::text, status::text, created_at, updated_at"

    /// The columns of a `resource_events` row, in the order ``event(_:)`` decodes them.
    static let eventColumns =
        "cursor, type, kind, namespace, name, resource_version, uid, generation, owner, object::text, status::text, created_at, updated_at"

    /// The event columns written for a change, and the `object` built from a `resources` row (used in
    /// `INSERT INTO resource_events (…) SELECT … FROM <changed rows>`).
    static let eventInsertColumns =
        "type, kind, namespace, name, resource_version, uid, generation, owner, object, status, created_at, updated_at"
    static let objectExpression = "jsonb_build_object('apiVersion', api_version, 'kind', kind, 'metadata', metadata) || spec"

    static func resource(_ row: PostgresRow) throws(StoreError) -> StoredResource {
        do {
            let (kind, namespace, name, apiVersion, uid, resourceVersion, generation, metadata, owner, spec, status, created, updated) =
                try row.decode(
                    (String, String, String, String, String, Int64, Int64, String, String?, String, String?, Date, Date).self)
            let resource = try StoredContent.resource(
                apiVersion: apiVersion, kind: kind,
                metadata: StoredContent.parse(metadata, what: "metadata of \(kind)/\(name)"),
                body: StoredContent.parse(spec, what: "spec of \(kind)/\(name)"))
            return StoredResource(
                resource: resource, namespace: namespace, uid: uid, resourceVersion: resourceVersion, generation: generation,
                owner: owner, status: try statusValue(status, kind: kind, name: name),
                createdAt: created, updatedAt: updated)
        } catch {
            throw PostgresStore.storeError(error, operation: "read resource", timeout: .zero)
        }
    }

    static func event(_ row: PostgresRow) throws(StoreError) -> ResourceEvent {
        do {
            let (cursor, type, _, namespace, name, resourceVersion, uid, generation, owner, object, status, created, updated) =
                try row.decode(
                    (Int64, String, String, String, String, Int64, String, Int64, String?, String, String?, Date, Date).self)
            guard let kind = ResourceEvent.Kind(rawValue: type) else { throw StoreError.corrupt("unknown event type \(type)") }
            let resource = try StoredContent.resource(fromObject: StoredContent.parse(object, what: "event \(cursor)"))
            let stored = StoredResource(
                resource: resource, namespace: namespace, uid: uid, resourceVersion: resourceVersion, generation: generation,
                owner: owner,
                status: try statusValue(status, kind: resource.kind, name: name),
                createdAt: created, updatedAt: updated)
            return ResourceEvent(cursor: cursor, type: kind, resource: stored)
        } catch {
            throw PostgresStore.storeError(error, operation: "read event", timeout: .zero)
        }
    }

    private static func statusValue(_ text: String?, kind: String, name: String) throws(StoreError) -> JSONValue? {
        guard let text else { return nil }
        return StoredContent.canonical(try StoredContent.parse(text, what: "status of \(kind)/\(name)"))
    }
}
