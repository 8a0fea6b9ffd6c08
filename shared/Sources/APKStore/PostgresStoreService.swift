import Logging
import PostgresNIO
import ServiceLifecycle

/// Runs a ``PostgresStore``: the connection pool, the start-up migrations, and the `LISTEN apk_resources` connection
/// that wakes ``PostgresResourceStore/waitForEvents(after:timeout:)``.
///
/// Put it in the `ServiceGroup` before the services that use the store (it stops after them). Start-up migrations are
/// retried while the database is unreachable; any other migration failure ends `run()` with the error, which stops
/// the group. The listener reconnects with back-off and wakes every waiter after reconnecting, since notifications
/// sent while it was away are lost (the waiters then re-read the event table).
package struct PostgresStoreService: Service {
    let store: PostgresStore
    let migrate: Bool

    package func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.client.run() }
            group.addTask {
                try await cancelWhenGracefulShutdown {
                    if migrate { try await migrateWhenReachable() }
                    await listen()
                }
            }
            // Either both end (graceful shutdown / cancellation) or one failed: stop the other too.
            defer { group.cancelAll() }
            try await group.next()
            try await group.next()
        }
    }

    private func migrateWhenReachable() async throws {
        var attempt = 0
        while true {
            do {
                try await store.migrate()
                return
            } catch .unavailable(let reason) {
                try Task.checkCancellation()
                store.logger.warning("database unreachable; migrations will be retried", metadata: ["error.message": "\(reason)"])
                try await Task.sleep(for: Self.backoff(attempt))
                attempt += 1
            }
        }
    }

    /// Holds one pooled connection in `LISTEN` and forwards each notification's cursor to the store's signal.
    private func listen() async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                try await store.client.withConnection { connection in
                    try await connection.listen(on: PostgresStore.channel) { notifications in
                        store.setListening(true)
                        store.signal.wakeAll()
                        store.logger.debug("listening for resource changes")
                        for try await notification in notifications {
                            if let cursor = Int64(notification.payload) { store.signal.advance(to: cursor) }
                        }
                    }
                }
                attempt = 0
            } catch {
                if Task.isCancelled { break }
                let mapped = PostgresStore.storeError(error, operation: "listen", timeout: store.configuration.connectTimeout)
                // During shutdown the pool may close the connection before this task sees its cancellation.
                let closedByUs = (error as? PSQLError).map { $0.code == .clientClosedConnection || $0.code == .poolClosed } ?? false
                store.logger.log(level: closedByUs ? .debug : .warning, "change-feed listener lost its connection; reconnecting",
                                 metadata: ["error.message": "\(mapped)"])
                attempt += 1
            }
            store.setListening(false)
            do { try await Task.sleep(for: Self.backoff(attempt)) } catch { break }
        }
        store.setListening(false)
    }

    /// 100 ms doubling to at most 5 s.
    static func backoff(_ attempt: Int) -> Duration {
        min(.milliseconds(100 << min(max(attempt, 0), 6)), .seconds(5))
    }
}
