package import APKSupport
import APKStore
package import Logging

extension DeployerStores {
    /// The stores for `backend`: PostgreSQL (one pool shared by both stores; its service runs the pool and the
    /// migrations) or in-memory (state lost on exit; tests and throwaway runs).
    ///
    /// PostgreSQL is configured as every service configures it (``PostgresStore/Configuration/resolve(reader:environment:)``).
    package static func make(
        backend: DeployerConfiguration.StoreBackend, reader: ConfigReader, environment: [String: String], logger: Logger
    ) throws -> DeployerStores {
        switch backend {
        case .memory:
            logger.warning("using in-memory stores: every API, client and key is lost on exit")
            return DeployerStores(resources: InMemoryResourceStore(), controlPlane: InMemoryControlPlaneStore())
        case .postgres:
            let configuration = try PostgresStore.Configuration.resolve(reader: reader, environment: environment)
            logger.info("using PostgreSQL", metadata: ["db.endpoint": .string(configuration.description)])
            let store = PostgresStore(configuration: configuration, logger: logger)
            return DeployerStores(
                resources: store.resources, controlPlane: store.controlPlane, services: [store.makeService()])
        }
    }
}
