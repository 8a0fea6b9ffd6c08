import APKModel
import Logging
import PostgresNIO

/// ``ResourceStore`` on PostgreSQL: resources as rows of `resources`, the change feed in `resource_events`
/// (cursor = `bigserial`), `NOTIFY apk_resources` on every committed change.
///
/// Every writer (apply, deleteAPI, updateStatus) first takes one transaction-scoped advisory lock
/// (``writerLockKey``), allocates its cursors while holding it, and releases it only at COMMIT. Writers therefore
/// commit in cursor order: when a reader sees event N, every event below N is already committed (or was rolled back
/// and will never appear). Without the lock, transaction A could take cursor 10, transaction B cursor 11, B commit
/// first, and a watcher that read 11 and moved on to `cursor > 11` would never see A's event 10.
/// Reads take no lock. Objects come back in ``StoredContent`` form (keys sorted), identical to the in-memory store.
package struct PostgresResourceStore: ResourceStore {
    /// `pg_advisory_xact_lock` key taken by every writer ("APKRSRC").
    static let writerLockKey: Int64 = 0x41_504B_5253_5243

    let store: PostgresStore
    var logger: Logger { store.driverLogger }

    init(store: PostgresStore) { self.store = store }

    package func get(_ key: ResourceKey) async throws(StoreError) -> StoredResource? {
        let logger = logger
        let rows = try await store.withConnection("get resource") { connection in
            try await connection.rows(
                """
                SELECT \(unescaped: PostgresRows.resourceColumns) FROM resources
                WHERE kind = \(key.kind) AND namespace = \(key.namespace) AND name = \(key.name)
                """, logger: logger)
        }
        return try rows.first.map { row throws(StoreError) in try PostgresRows.resource(row) }
    }

    package func list(kind: String?, namespace: String?, owner: String?) async throws(StoreError) -> [StoredResource] {
        // Only present filters become conditions (so the (namespace, owner) index applies); values are bound.
        var conditions: [String] = []
        var bindings = PostgresBindings()
        for (column, value) in [("kind", kind), ("namespace", namespace), ("owner", owner)] {
            guard let value else { continue }
            bindings.append(value)
            conditions.append("\(column) = $\(bindings.count)")
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT \(PostgresRows.resourceColumns) FROM resources \(filter)
                ORDER BY kind COLLATE "C", namespace COLLATE "C", name COLLATE "C"
                """,
            binds: bindings)
        let logger = logger
        let rows = try await store.withConnection("list resources") { connection in
            try await connection.rows(query, logger: logger)
        }
        var resources: [StoredResource] = []
        resources.reserveCapacity(rows.count)
        for row in rows { resources.append(try PostgresRows.resource(row)) }
        return resources
    }

    package func events(after cursor: Int64, limit: Int) async throws(StoreError) -> [ResourceEvent] {
        guard limit > 0 else { return [] }
        let logger = logger
        let rows = try await store.withConnection("read events") { connection in
            try await connection.rows(
                """
                SELECT \(unescaped: PostgresRows.eventColumns) FROM resource_events
                WHERE cursor > \(cursor) ORDER BY cursor LIMIT \(Int64(limit))
                """, logger: logger)
        }
        var events: [ResourceEvent] = []
        events.reserveCapacity(rows.count)
        for row in rows { events.append(try PostgresRows.event(row)) }
        return events
    }

    package func latestCursor() async throws(StoreError) -> Int64 {
        let logger = logger
        return try await store.withConnection("read latest cursor") { connection in
            try await Self.latestCursor(connection, logger: logger)
        }
    }

    /// Waits for a notification with a cursor above `cursor`. Race-free: the listener's epoch is read before the
    /// table is checked, so a notification that arrives after the check wakes the wait, and a listener reconnect in
    /// between (notifications lost) makes it return at once; the caller then re-reads ``events(after:limit:)``.
    package func waitForEvents(after cursor: Int64, timeout: Duration) async throws(StoreError) {
        let epoch = store.signal.epoch
        let latest = try await latestCursor()
        if latest > cursor {
            store.signal.advance(to: latest)
            return
        }
        await store.signal.wait(after: cursor, timeout: timeout, epoch: epoch)
    }

    static func latestCursor(_ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        let rows = try await connection.rows("SELECT coalesce(max(cursor), 0)::int8 FROM resource_events", logger: logger)
        return try rows.first?.decode(Int64.self) ?? 0
    }
}
