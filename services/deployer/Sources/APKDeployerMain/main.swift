// apk-deployer: deploy/undeploy/list APIs, runtime APIs and the built-in token issuer (contract §3, §10).
// Reads configuration, runs the service group until SIGTERM/SIGINT.
import APKDeployer
import APKRuntime
import Foundation
import Logging

let reader = ConfigReader()
let configuration: DeployerConfiguration
do {
    configuration = try DeployerConfiguration(reader: reader)
} catch {
    FileHandle.standardError.write(Data("apk-deployer: \(error)\n".utf8))
    exit(2)
}

let logger = APKLogging.bootstrap(label: "apk-deployer", level: configuration.logLevel)
APKMetrics.bootstrap()

do {
    let stores = try DeployerStores.make(
        backend: configuration.storeBackend, reader: reader, environment: ProcessInfo.processInfo.environment,
        logger: logger)
    let services = try buildServices(configuration: configuration, stores: stores, logger: logger)
    logger.info(
        "starting apk-deployer",
        metadata: [
            "http.address": .string(configuration.server.baseURL),
            "token.issuer": .string(configuration.token.issuer),
            "auth.external_issuers": .stringConvertible(configuration.auth.externalIssuers.count),
        ])
    try await APKServer.run(services, logger: logger)
} catch {
    logger.critical("apk-deployer stopped", metadata: ["error.description": .string(String(describing: error))])
    exit(1)
}
