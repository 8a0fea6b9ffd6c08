// apk-adapter: watches the resource store, translates CRs → IR → Envoy xDS and serves ADS to the router
// (ARCHITECTURE.md "Adapter pipeline"). Reads configuration, runs the service group until SIGTERM/SIGINT.
import APKAdapter
import APKRuntime
import Foundation
import Logging

let reader = ConfigReader()
let configuration: AdapterConfiguration
do {
    configuration = try AdapterConfiguration(reader: reader)
} catch {
    FileHandle.standardError.write(Data("apk-adapter: \(error)\n".utf8))
    exit(2)
}

let logger = APKLogging.bootstrap(label: "apk-adapter", level: configuration.logLevel)
APKMetrics.bootstrap()

do {
    let store = try makeAdapterStore(
        configuration: configuration, environment: ProcessInfo.processInfo.environment, reader: reader, logger: logger)
    let (services, _) = try buildAdapterServices(
        configuration: configuration, store: store.store, storeServices: store.services, logger: logger)
    logger.info(
        "starting apk-adapter",
        metadata: [
            "xds.address": .string("\(configuration.xdsHost):\(configuration.xdsPort)"),
            "ops.address": .string(configuration.ops.baseURL),
            "gateway.node_id": .string(configuration.nodeID),
            "watch.namespace": .string(configuration.namespace),
            "gateway.https": .string(configuration.xds.tls == nil ? "off (no GATEWAY_TLS_CERTIFICATE)" : "\(configuration.xds.httpsPort)"),
        ])
    try await APKServer.run(services, logger: logger)
} catch {
    logger.critical("apk-adapter stopped", metadata: ["error.description": .string(String(describing: error))])
    exit(1)
}
