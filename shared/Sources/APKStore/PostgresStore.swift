package import Logging
package import PostgresNIO
import Synchronization

/// The PostgreSQL side of the control plane: one connection pool shared by ``PostgresResourceStore`` and
/// ``PostgresControlPlaneStore``, the schema migrations, and the change-feed listener.
///
/// Run ``makeService(migrate:)`` in the application's `ServiceGroup` (before the servers that use the stores): it runs
/// the pool (`PostgresClient.run()`), applies the migrations at start-up, and keeps a `LISTEN apk_resources`
/// connection open. Operations issued while the database is down fail with ``StoreError/unavailable(_:)`` after at
/// most ``Configuration/connectTimeout``; the pool reconnects by itself, so the stores recover when it returns.
package final class PostgresStore: Sendable {
    /// The NOTIFY channel: the payload is the newest event cursor of the committing transaction.
    static let channel = "apk_resources"

    /// Where the database is (``Configuration/description`` is safe to log).
    package let configuration: Configuration
    /// The pool; its `run()` is driven by ``PostgresStoreService``. Exposed for ad-hoc queries in tests and tools.
    package let client: PostgresClient
    let logger: Logger
    /// The logger handed to postgres-nio: never below `info`, since its trace output includes row data.
    let driverLogger: Logger
    let signal = CursorSignal()
    private let state = Mutex(RuntimeState())

    private struct RuntimeState {
        var migrated = false
        var listening = false
    }

    /// A store on `configuration`'s database; nothing connects until the service runs.
    package init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        var driverLogger = logger
        if driverLogger.logLevel < .info { driverLogger.logLevel = .info }
        self.driverLogger = driverLogger
        self.client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: driverLogger)
    }

    /// The CR store on this pool.
    package var resources: PostgresResourceStore { PostgresResourceStore(store: self) }

    /// OAuth clients, signing keys, internal keys and deploy history on this pool.
    package var controlPlane: PostgresControlPlaneStore { PostgresControlPlaneStore(store: self) }

    /// The `Service` that runs the pool, the migrations (when `migrate`) and the change-feed listener.
    package func makeService(migrate: Bool = true) -> PostgresStoreService {
        PostgresStoreService(store: self, migrate: migrate)
    }

    /// Applies the pending schema migrations (idempotent; serialised across processes by an advisory lock).
    /// Returns the versions applied by this call.
    @discardableResult
    package func migrate() async throws(StoreError) -> [Int] {
        let applied = try await PostgresMigrations.migrate(self)
        state.withLock { $0.migrated = true }
        return applied
    }

    /// True once the migrations ran and the change-feed listener is connected (for `/ready`).
    package var isReady: Bool { state.withLock { $0.migrated && $0.listening } }

    /// True while the `LISTEN` connection is up.
    package var isListening: Bool { state.withLock { $0.listening } }

    /// A round trip to the database (for readiness checks).
    package func ping() async throws(StoreError) {
        _ = try await withConnection("ping") { connection in
            try await connection.query("SELECT 1", logger: self.driverLogger).collect()
        }
    }

    /// Returns when the change-feed listener (re)connects, or after `timeout` (readiness waits and tests).
    package func waitForListenerChange(timeout: Duration) async {
        let epoch = signal.epoch
        await signal.wait(after: .max, timeout: timeout, epoch: epoch)
    }

    /// Callers currently parked in ``PostgresResourceStore/waitForEvents(after:timeout:)`` (tests, metrics).
    package var parkedWaiters: Int { signal.waiterCount }

    func setListening(_ listening: Bool) { state.withLock { $0.listening = listening } }
}
