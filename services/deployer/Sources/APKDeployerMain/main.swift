// apk-deployer: deploy/undeploy/list APIs, runtime APIs and the built-in token issuer (contract §3, §10).
// Reads configuration, runs the service group until SIGTERM/SIGINT.
import APKDeployer
import APKRuntime
import Foundation

await APKMain.run("apk-deployer", configuration: DeployerConfiguration.self) { configuration, reader, logger in
    let stores = try DeployerStores.make(
        backend: configuration.storeBackend, reader: reader, environment: ProcessInfo.processInfo.environment,
        logger: logger)
    return try buildApplication(configuration: configuration, stores: stores, logger: logger)
}
