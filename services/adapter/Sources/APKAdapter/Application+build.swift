import APKModel
import APKRuntime
package import APKSupport
package import APKStore
package import APKXDS
package import Logging
package import ServiceLifecycle

extension AdapterConfiguration: ServiceConfiguration {}

/// The adapter as its main runs it: the store's services, the ADS server, the control loop and the ops server, with
/// typed handles on its parts for tests.
package struct AdapterApplication: ServiceApplication {
    package let configuration: AdapterConfiguration
    package let adapter: AdapterService
    package let ads: ADSService
    package let xdsServer: XDSServerService
    package let cache: SnapshotCache
    package let services: [any Service]

    package var startupMetadata: Logger.Metadata {
        [
            "xds.address": .string("\(configuration.xdsHost):\(configuration.xdsPort)"),
            "ops.address": .string(configuration.ops.baseURL),
            "gateway.node_id": .string(configuration.nodeID),
            "watch.namespace": .string(configuration.namespace),
            "gateway.https": .string(configuration.xds.tls == nil ? "off (no GATEWAY_TLS_CERTIFICATE)" : "\(configuration.xds.httpsPort)"),
        ]
    }
}

/// Builds the control loop, the ADS server and the ops server over `store`; `storeServices` (the PostgreSQL pool)
/// start first and stop last.
package func buildApplication(
    configuration: AdapterConfiguration, store: any ResourceStore, storeServices: [any Service], logger: Logger
) throws -> AdapterApplication {
    let cache = SnapshotCache()
    let adapter = AdapterService(
        store: store, cache: cache, nodeID: configuration.nodeID, serviceNodeIDs: configuration.serviceNodeIDs,
        state: try GatewayState(namespace: configuration.namespace, settings: configuration.xds), logger: logger)
    let ads = ADSService(cache: cache, logger: logger, onNACK: { adapter.nackReceived($0) })
    let xdsServer = XDSServerService(host: configuration.xdsHost, port: configuration.xdsPort, services: [ads])
    let ops = try APKServer.opsApplication(
        settings: configuration.ops, serverName: "apk-adapter", logger: logger, readiness: { adapter.isReady })
    return AdapterApplication(
        configuration: configuration, adapter: adapter, ads: ads, xdsServer: xdsServer, cache: cache,
        services: storeServices + [xdsServer, adapter, ops])
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
        let postgres = try PostgresStore.Configuration.resolve(reader: reader, environment: environment)
        logger.info("using PostgreSQL", metadata: ["db.endpoint": .string(postgres.description)])
        let store = PostgresStore(configuration: postgres, logger: logger)
        return (store.resources, [store.makeService()])
    }
}
