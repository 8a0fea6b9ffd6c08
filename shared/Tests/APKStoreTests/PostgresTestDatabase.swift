import APKStore
import APKTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// Access to the PostgreSQL server named by `APK_TEST_DATABASE_URL` (set by `./build-apk.sh test` through
/// `scripts/postgres.sh test-env`). Each test gets a fresh database (`apk_test_<random>`) that is dropped afterwards,
/// so tests run in parallel without seeing each other's rows or cursors.
enum PostgresTestDatabase {
    static var url: String? { TestEnvironment.databaseURL }

    static var isAvailable: Bool { url != nil }
    static let skipMessage: Comment = "APK_TEST_DATABASE_URL is not set: PostgreSQL store tests skipped (./build-apk.sh test sets it)"

    static let logger: Logger = {
        var logger = Logger(label: "apk.store.tests")
        logger.logLevel = .error  // postgres-nio warns when a query races the start of `run()`
        return logger
    }()

    static func baseConfiguration() throws -> PostgresStore.Configuration {
        guard let url else { throw StoreError.unavailable("APK_TEST_DATABASE_URL is not set") }
        var configuration = try PostgresStore.Configuration(url: url)
        configuration.maximumConnections = 4
        return configuration
    }

    /// Creates a fresh database, runs `body` with its configuration, then drops it.
    static func withDatabase<T: Sendable>(_ body: (PostgresStore.Configuration) async throws -> T) async throws -> T {
        let base = try baseConfiguration()
        let name = "apk_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        _ = try await admin(base) { client in
            // The name is ours (hex), not outside data; identifiers cannot be bound as parameters.
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        }
        var configuration = base
        configuration.database = name
        do {
            let value = try await body(configuration)
            try await drop(name, base)
            return value
        } catch {
            try? await drop(name, base)
            throw error
        }
    }

    /// A migrated ``PostgresStore`` on a fresh database with its service running (listener connected).
    static func withStore<T: Sendable>(_ body: (PostgresStore) async throws -> T) async throws -> T {
        try await withDatabase { configuration in
            // These tests check outcomes, not how long a lease waits (PostgresConfigurationTests does): 20 concurrent
            // applies, which commit one at a time, share a pool of 10 connections, and on a loaded 2-core CI run
            // (three gateway stacks beside them) the last ones waited more than the 5 s default.
            var configuration = configuration
            configuration.connectTimeout = .seconds(60)
            return try await run(PostgresStore(configuration: configuration, logger: logger)) { store in
                try await store.migrate()
                try await waitUntilListening(store)
                return try await body(store)
            }
        }
    }

    /// Runs `store`'s service (without start-up migrations) around `body`.
    static func run<T: Sendable>(_ store: PostgresStore, _ body: (PostgresStore) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.makeService(migrate: false).run() }
            defer { group.cancelAll() }
            return try await body(store)
        }
    }

    /// Waits (event-driven: the listener bumps the signal's epoch when it connects) until the LISTEN connection is up.
    static func waitUntilListening(_ store: PostgresStore, timeout: Duration = Poll.hangLimit) async throws {
        let deadline = ContinuousClock.now + timeout
        while !store.isListening {
            guard ContinuousClock.now < deadline else { throw StoreError.unavailable("listener did not connect") }
            await store.waitForListenerChange(timeout: .milliseconds(500))
        }
    }

    /// Runs a bare client on the base database.
    static func admin<T: Sendable>(_ configuration: PostgresStore.Configuration, _ body: (PostgresClient) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: configuration.clientConfiguration)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    private static func drop(_ name: String, _ base: PostgresStore.Configuration) async throws {
        _ = try await admin(base) { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
        }
    }
}
