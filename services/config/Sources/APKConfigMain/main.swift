// apk-config: the stateless configurator REST service (contract §2). Reads configuration, runs until SIGTERM/SIGINT.
import APKConfig
import APKRuntime
import Foundation
import Logging

let configuration: ConfigServiceConfiguration
do {
    configuration = try ConfigServiceConfiguration(reader: ConfigReader())
} catch {
    FileHandle.standardError.write(Data("apk-config: \(error)\n".utf8))
    exit(2)
}

let logger = APKLogging.bootstrap(label: "apk-config", level: configuration.logLevel)
APKMetrics.bootstrap()

do {
    let app = try buildApplication(configuration: configuration, logger: logger)
    logger.info(
        "starting apk-config",
        metadata: [
            "http.address": .string(configuration.server.baseURL),
            "limits.max_body_bytes": .stringConvertible(configuration.maxBodyBytes),
        ])
    try await APKServer.run([app], logger: logger)
    logger.info("apk-config stopped")
} catch {
    logger.critical("apk-config failed", metadata: ["error.description": .string(String(describing: error))])
    exit(1)
}
