package import APKModel
import Foundation
import Logging
import PostgresNIO

extension PostgresResourceStore {
    package func apply(_ bundle: CRBundle, namespace: String) async throws(StoreError) -> ApplyResult {
        let api = try ApplyPlan.validatedAPI(bundle)  // reject a malformed bundle before touching the database
        let logger = logger
        let result = try await store.withTransaction("apply") { connection in
            try await Self.lockWriters(connection, logger: logger)
            if let basePath = ApplyPlan.basePath(of: api) {
                let candidates = try await connection.rows(
                    """
                    SELECT \(unescaped: PostgresRows.resourceColumns) FROM resources
                    WHERE kind = 'API' AND namespace = \(namespace) AND name <> \(api.name)
                      AND spec->'spec'->>'basePath' = \(basePath)
                    """, logger: logger
                ).map { row throws(StoreError) in try PostgresRows.resource(row) }
                if let conflict = ApplyPlan.conflict(for: api, among: candidates) { throw conflict }
            }
            let plan = try ApplyPlan.make(
                bundle: bundle, namespace: namespace,
                existing: try await Self.touchedRows(bundle, namespace: namespace, connection, logger: logger),
                newUID: { UUID().uuidString.lowercased() })
            var cursor: Int64 = 0
            for write in plan.writes { cursor = try await Self.write(write, connection, logger: logger) }
            for deleted in plan.deletes { cursor = try await Self.delete(deleted.key, connection, logger: logger) ?? cursor }
            if cursor > 0 {
                try await Self.notify(cursor, connection, logger: logger)
            } else {
                cursor = try await Self.latestCursor(connection, logger: logger)
            }
            return ApplyResult(apiUID: plan.apiUID, created: plan.created, written: plan.writes.count,
                               deleted: plan.deletes.count, cursor: cursor)
        }
        store.signal.advance(to: result.cursor)
        return result
    }

    package func applyResource(_ resource: K8sResource, namespace: String) async throws(StoreError) -> Int64 {
        let logger = logger
        let cursor = try await store.withTransaction("apply resource") { connection in
            try await Self.lockWriters(connection, logger: logger)
            let existing = try await connection.rows(
                """
                SELECT \(unescaped: PostgresRows.resourceColumns) FROM resources
                WHERE kind = \(resource.kind) AND namespace = \(namespace) AND name = \(resource.name)
                """, logger: logger
            ).map { row throws(StoreError) in try PostgresRows.resource(row) }.first
            guard let write = try ApplyPlan.standalone(
                resource, namespace: namespace, existing: existing, newUID: { UUID().uuidString.lowercased() })
            else { return try await Self.latestCursor(connection, logger: logger) }
            let cursor = try await Self.write(write, connection, logger: logger)
            try await Self.notify(cursor, connection, logger: logger)
            return cursor
        }
        store.signal.advance(to: cursor)
        return cursor
    }

    package func deleteResource(_ key: ResourceKey) async throws(StoreError) -> Bool {
        guard ApplyPlan.standaloneKinds.contains(key.kind) else {
            throw .failed("\(key.kind) resources are deleted with their API, not on their own")
        }
        let logger = logger
        let cursor = try await store.withTransaction("delete resource") { connection in
            try await Self.lockWriters(connection, logger: logger)
            guard let cursor = try await Self.delete(key, connection, logger: logger) else { return Int64(0) }
            try await Self.notify(cursor, connection, logger: logger)
            return cursor
        }
        if cursor > 0 { store.signal.advance(to: cursor) }
        return cursor > 0
    }

    package func deleteAPI(id: String, namespace: String, organization: String?) async throws(StoreError) -> Bool {
        let logger = logger
        let (existed, cursor) = try await store.withTransaction("delete API") { connection in
            try await Self.lockWriters(connection, logger: logger)
            if let organization {
                let owners = try await connection.rows(
                    """
                    SELECT coalesce(spec->'spec'->>'organization', '') FROM resources
                    WHERE kind = \(CRKind.api.rawValue) AND namespace = \(namespace) AND name = \(id)
                    """, logger: logger
                ).map { row in try row.decode(String.self) }
                guard owners.first == organization else { return (false, Int64(0)) }
            }
            // Children first, then the API (the in-memory store's order); one row per statement so resource
            // versions follow cursor order.
            let keys = try await connection.rows(
                """
                SELECT kind, name FROM resources
                WHERE namespace = \(namespace) AND ((kind = \(CRKind.api.rawValue) AND name = \(id)) OR owner = \(id))
                ORDER BY kind = \(CRKind.api.rawValue), kind COLLATE "C", name COLLATE "C"
                """, logger: logger
            ).map { row in
                let (kind, name) = try row.decode((String, String).self)
                return ResourceKey(kind: kind, namespace: namespace, name: name)
            }
            var cursor: Int64 = 0
            for key in keys { cursor = try await Self.delete(key, connection, logger: logger) ?? cursor }
            if cursor > 0 { try await Self.notify(cursor, connection, logger: logger) }
            return (keys.contains { $0.kind == CRKind.api.rawValue }, cursor)
        }
        store.signal.advance(to: cursor)
        return existed
    }

    package func updateStatus(_ key: ResourceKey, status: JSONValue) async throws(StoreError) -> Bool {
        try await updateStatuses([(key, status)]).first ?? false
    }

    /// All in one transaction (one writer-lock turn, one notification): what a controller writing many statuses
    /// after a bulk change wants.
    package func updateStatuses(_ updates: [(key: ResourceKey, status: JSONValue)]) async throws(StoreError) -> [Bool] {
        guard !updates.isEmpty else { return [] }
        let logger = logger
        let (found, cursor) = try await store.withTransaction("update status") { connection in
            try await Self.lockWriters(connection, logger: logger)
            var found: [Bool] = []
            var cursor: Int64 = 0
            for (key, status) in updates {
                let written = try await Self.writeStatus(
                    key, normalized: StoredContent.normalizedStatus(status), connection, logger: logger)
                found.append(written != nil)
                cursor = max(cursor, written ?? 0)
            }
            if cursor > 0 { try await Self.notify(cursor, connection, logger: logger) }
            return (found, cursor)
        }
        store.signal.advance(to: cursor)
        return found
    }

    /// Replaces one resource's status: nil when the resource does not exist, 0 when the status was already that,
    /// else the event's cursor.
    private static func writeStatus(_ key: ResourceKey, normalized: JSONValue?, _ connection: PostgresConnection,
                                    logger: Logger) async throws -> Int64? {
        let rows = try await connection.rows(
            """
            SELECT status::text FROM resources
            WHERE kind = \(key.kind) AND namespace = \(key.namespace) AND name = \(key.name)
            """, logger: logger)
        guard let row = rows.first else { return nil }
        let current = try row.decode(String?.self).map { text throws(StoreError) in
            StoredContent.canonical(try StoredContent.parse(text, what: "status of \(key)"))
        }
        guard current != normalized else { return 0 }
        let text = normalized.map(StoredContent.text)
        return try await connection.rows(
            """
            WITH changed AS (
                UPDATE resources SET status = \(text)::jsonb, resource_version = nextval('apk_resource_version'),
                    updated_at = now()
                WHERE kind = \(key.kind) AND namespace = \(key.namespace) AND name = \(key.name)
                RETURNING *)
            INSERT INTO resource_events (\(unescaped: PostgresRows.eventInsertColumns))
            SELECT 'MODIFIED', kind, namespace, name, resource_version, uid, generation, owner,
                \(unescaped: PostgresRows.objectExpression), status, created_at, updated_at
            FROM changed RETURNING cursor
            """, logger: logger
        ).first?.decode(Int64.self) ?? 0
    }

    // MARK: statements

    /// Serialises writers until COMMIT (see the type's documentation).
    static func lockWriters(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(\(writerLockKey))", logger: logger)
    }

    /// The rows an apply may change: the API CR, its children, and rows that have the key of a bundle resource.
    private static func touchedRows(_ bundle: CRBundle, namespace: String, _ connection: PostgresConnection,
                                    logger: Logger) async throws -> [StoredResource] {
        let kinds = bundle.resources.map(\.kind)
        let names = bundle.resources.map(\.name)
        return try await connection.rows(
            """
            SELECT \(unescaped: PostgresRows.resourceColumns) FROM resources
            WHERE namespace = \(namespace) AND (owner = \(bundle.apiID)
               OR (kind, name) IN (SELECT k, n FROM unnest(\(kinds)::text[], \(names)::text[]) AS t(k, n)))
            """, logger: logger
        ).map { row throws(StoreError) in try PostgresRows.resource(row) }
    }

    /// Upserts one planned resource and records its ADDED/MODIFIED event; returns the event's cursor.
    private static func write(_ write: ApplyPlan.Write, _ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        let resource = write.resource
        let labels = StoredContent.text(StoredContent.labelsJSON(resource.metadata.labels))
        let metadata = StoredContent.text(StoredContent.metadataJSON(resource.metadata))
        let body = StoredContent.text(.object(resource.body))
        let namespace = resource.metadata.namespace ?? ""
        let rows = try await connection.rows(
            """
            WITH written AS (
                INSERT INTO resources (kind, namespace, name, api_version, uid, resource_version, generation, labels,
                    metadata, owner, spec)
                VALUES (\(resource.kind), \(namespace), \(resource.name), \(resource.apiVersion), \(write.uid),
                    nextval('apk_resource_version'), \(write.generation), \(labels)::jsonb, \(metadata)::jsonb,
                    \(write.owner), \(body)::jsonb)
                ON CONFLICT (kind, namespace, name) DO UPDATE SET api_version = EXCLUDED.api_version,
                    uid = EXCLUDED.uid, resource_version = EXCLUDED.resource_version,
                    generation = EXCLUDED.generation, labels = EXCLUDED.labels, metadata = EXCLUDED.metadata,
                    owner = EXCLUDED.owner, spec = EXCLUDED.spec, updated_at = now()
                RETURNING *)
            INSERT INTO resource_events (\(unescaped: PostgresRows.eventInsertColumns))
            SELECT \(write.type.rawValue), kind, namespace, name, resource_version, uid, generation, owner,
                \(unescaped: PostgresRows.objectExpression), status, created_at, updated_at
            FROM written RETURNING cursor
            """, logger: logger)
        guard let cursor = try rows.first?.decode(Int64.self) else { throw StoreError.failed("\(write.key) was not written") }
        return cursor
    }

    /// Deletes one resource and records its DELETED event (with a new resource version); nil when it was gone.
    private static func delete(_ key: ResourceKey, _ connection: PostgresConnection, logger: Logger) async throws -> Int64? {
        try await connection.rows(
            """
            WITH removed AS (
                DELETE FROM resources WHERE kind = \(key.kind) AND namespace = \(key.namespace) AND name = \(key.name)
                RETURNING *)
            INSERT INTO resource_events (\(unescaped: PostgresRows.eventInsertColumns))
            SELECT 'DELETED', kind, namespace, name, nextval('apk_resource_version'), uid, generation, owner,
                \(unescaped: PostgresRows.objectExpression), status, created_at, updated_at
            FROM removed RETURNING cursor
            """, logger: logger
        ).first?.decode(Int64.self)
    }

    /// `NOTIFY apk_resources, '<cursor>'`; delivered to listeners when the transaction commits.
    private static func notify(_ cursor: Int64, _ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_notify(\(PostgresStore.channel), \(String(cursor)))", logger: logger)
    }
}
