package import APKRuntime
import APKStore
package import Logging

extension DeployerStores {
    /// The stores for `backend`: PostgreSQL (one pool shared by both stores; its service runs the pool and the
    /// migrations) or in-memory (state lost on exit; tests and throwaway runs).
    ///
    /// PostgreSQL is configured by `DATABASE_URL`, else by `POSTGRES_HOST` (`127.0.0.1`), `POSTGRES_PORT` (`5432`),
    /// `POSTGRES_USER` (`apk`), `POSTGRES_PASSWORD` (unset; secret) and `POSTGRES_DB` (`apk`).
    package static func make(
        backend: DeployerConfiguration.StoreBackend, reader: ConfigReader, environment: [String: String], logger: Logger
    ) throws -> DeployerStores {
        switch backend {
        case .memory:
            logger.warning("using in-memory stores: every API, client and key is lost on exit")
            return DeployerStores(resources: InMemoryResourceStore(), controlPlane: InMemoryControlPlaneStore())
        case .postgres:
            let configuration = try postgresConfiguration(reader: reader, environment: environment)
            logger.info("using PostgreSQL", metadata: ["db.endpoint": .string(configuration.description)])
            let store = PostgresStore(configuration: configuration, logger: logger)
            return DeployerStores(
                resources: store.resources, controlPlane: store.controlPlane, services: [store.makeService()])
        }
    }

    private static func postgresConfiguration(
        reader: ConfigReader, environment: [String: String]
    ) throws -> PostgresStore.Configuration {
        if let configuration = try PostgresStore.Configuration.fromEnvironment(environment) { return configuration }
        return PostgresStore.Configuration(
            host: reader.string("postgres.host", default: "127.0.0.1"),
            port: try reader.int("postgres.port", default: 5432, range: 1...65535),
            username: reader.string("postgres.user", default: "apk"), password: reader.string("postgres.password"),
            database: reader.string("postgres.db", default: "apk"))
    }
}
