import APKModel
package import APKRuntime
package import APKStore
package import APKXDS
import Hummingbird
package import Logging
package import ServiceLifecycle

/// The adapter's parts, wired as production runs them (tests build them the same way).
package struct AdapterComponents: Sendable {
    package let adapter: AdapterService
    package let ads: ADSService
    package let xdsServer: XDSServerService
    package let cache: SnapshotCache
}

/// Builds the control loop, the ADS server and the ops server over `store`; `storeServices` (the PostgreSQL pool)
/// start first and stop last. Run the returned services with `APKServer.run`.
package func buildAdapterServices(
    configuration: AdapterConfiguration, store: any ResourceStore, storeServices: [any Service], logger: Logger
) throws -> (services: [any Service], components: AdapterComponents) {
    let cache = SnapshotCache()
    let adapter = AdapterService(
        store: store, cache: cache, nodeID: configuration.nodeID,
        state: GatewayState(namespace: configuration.namespace, settings: configuration.xds), logger: logger)
    let ads = ADSService(cache: cache, logger: logger, onNACK: { adapter.nackReceived($0) })
    let xdsServer = XDSServerService(host: configuration.xdsHost, port: configuration.xdsPort, services: [ads])
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: APKErrorMiddleware())
    OpsRoutes(readiness: { adapter.isReady }).add(to: router)
    let server = try APKServer.serverBuilder(for: configuration.ops)
    let ops = APKServer.application(
        router: router, settings: configuration.ops, server: server, serverName: "apk-adapter", logger: logger)
    return (storeServices + [xdsServer, adapter, ops], AdapterComponents(adapter: adapter, ads: ads, xdsServer: xdsServer, cache: cache))
}

/// The resource store the configuration names: PostgreSQL (with its pool service) or in-memory (tests only).
package func makeAdapterStore(
    configuration: AdapterConfiguration, environment: [String: String], reader: ConfigReader, logger: Logger
) throws -> (store: any ResourceStore, services: [any Service]) {
    switch configuration.storeBackend {
    case .memory:
        logger.warning("using an in-memory resource store: nothing is ever deployed into it except by tests")
        return (InMemoryResourceStore(), [])
    case .postgres:
        let postgres: PostgresStore.Configuration
        if let fromURL = try PostgresStore.Configuration.fromEnvironment(environment) {
            postgres = fromURL
        } else {
            postgres = PostgresStore.Configuration(
                host: reader.string("postgres.host", default: "127.0.0.1"),
                port: try reader.int("postgres.port", default: 5432, range: 1...65535),
                username: reader.string("postgres.user", default: "apk"), password: reader.string("postgres.password"),
                database: reader.string("postgres.db", default: "apk"))
        }
        logger.info("using PostgreSQL", metadata: ["db.endpoint": .string(postgres.description)])
        let store = PostgresStore(configuration: postgres, logger: logger)
        return (store.resources, [store.makeService()])
    }
}
