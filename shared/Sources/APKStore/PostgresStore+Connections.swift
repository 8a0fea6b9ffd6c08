import Logging
import PostgresNIO
import Synchronization

extension PostgresStore {
    /// Runs `body` on one pooled connection. Waiting for the connection is bounded by
    /// ``Configuration/connectTimeout`` (the pool alone would queue requests for ~15 s while the database is down);
    /// once leased, `body` runs to its end, bounded by the server's `statement_timeout`, so an operation never
    /// reports a timeout after it actually committed. Every error becomes a ``StoreError``.
    func withConnection<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(StoreError) -> T {
        let gate = LeaseGate()
        let timeout = configuration.connectTimeout
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await self.client.withConnection { connection in
                        guard gate.claim() else { throw LeaseTimeout() }
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    if gate.expire() { throw LeaseTimeout() }
                    return nil  // leased in time: let the body finish
                }
                while let result = try await group.next() {
                    if let value = result {
                        group.cancelAll()
                        return value
                    }
                }
                throw LeaseTimeout()  // unreachable: the body's task always yields a value or throws
            }
        } catch {
            throw PostgresStore.storeError(error, operation: operation, timeout: timeout)
        }
    }

    /// Runs `body` in one transaction (BEGIN … COMMIT; ROLLBACK when it throws).
    func withTransaction<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(StoreError) -> T {
        let logger = driverLogger
        return try await withConnection(operation) { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let value = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return value
            } catch {
                do {
                    try await connection.query("ROLLBACK", logger: logger)
                } catch {
                    // The connection's state is unknown: close it rather than return it to the pool mid-transaction.
                    try? await connection.close()
                }
                throw error
            }
        }
    }

    /// Maps driver and pool errors to ``StoreError`` with messages that carry no SQL, values, URLs or passwords.
    static func storeError(_ error: any Error, operation: String, timeout: Duration) -> StoreError {
        switch error {
        case let error as StoreError: return error
        case is LeaseTimeout: return .unavailable("\(operation): no database connection within \(timeout)")
        case let error as PostgresTransactionError:
            let inner: (any Error)? = error.closureError ?? error.commitError ?? error.beginError
            return inner.map { storeError($0, operation: operation, timeout: timeout) } ?? .unavailable("\(operation): transaction failed")
        case let error as PSQLError:
            if error.code == .server { return serverError(error, operation: operation) }
            return .unavailable("\(operation): \(error.code)")
        case is PostgresDecodingError: return .corrupt("\(operation): a column has an unexpected type")
        case is CancellationError: return .unavailable("\(operation): cancelled")
        default:
            // Pool errors (circuit breaker open, shut down), NIO connection errors: the database cannot be reached.
            return .unavailable("\(operation): \(type(of: error))")
        }
    }

    /// SQLSTATE classes that mean "try again later" become ``StoreError/unavailable(_:)``; the rest ``StoreError/failed(_:)``.
    private static func serverError(_ error: PSQLError, operation: String) -> StoreError {
        let state = error.serverInfo?[.sqlState] ?? ""
        let message = String((error.serverInfo?[.message] ?? "").prefix(200))
        let transient = ["08", "53", "57", "40", "28", "3D"].contains { state.hasPrefix($0) }
        if transient { return .unavailable("\(operation): database error \(state)") }
        if state == "42P01" { return .unavailable("\(operation): the schema is not migrated yet") }
        return .failed("\(operation): database error \(state): \(message)")
    }
}

/// Decides, once, whether a connection request was served in time or timed out.
private final class LeaseGate: Sendable {
    private enum State { case waiting, leased, expired }
    private let state = Mutex(State.waiting)

    /// Called with the leased connection: false when the deadline already passed (the body must not run).
    func claim() -> Bool {
        state.withLock { state in
            guard state == .waiting else { return false }
            state = .leased
            return true
        }
    }

    /// Called at the deadline: true when no connection was leased yet (the request is abandoned).
    func expire() -> Bool {
        state.withLock { state in
            guard state == .waiting else { return false }
            state = .expired
            return true
        }
    }
}

private struct LeaseTimeout: Error {}

extension PostgresConnection {
    /// All rows of a query.
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await self.query(query, logger: logger).collect()
    }
}
