package import APKSupport
import Foundation
package import Logging
package import ServiceLifecycle

/// A service's configuration as its main reads it: from ``ConfigReader`` keys (environment variables), with the
/// log level every service has.
package protocol ServiceConfiguration: Sendable {
    init(reader: ConfigReader) throws
    var logLevel: Logger.Level { get }
}

/// What each service's `buildApplication(configuration:…)` returns: the services its main runs in one
/// `ServiceGroup` (in start order; stopped in reverse) and what the start-up log line says. Tests start the same
/// value in-process (``APKServer/run(_:logger:)`` or the typed handles each service adds).
package protocol ServiceApplication: Sendable {
    var services: [any Service] { get }
    var startupMetadata: Logger.Metadata { get }
}

/// The one `main` of every APK executable: read the configuration (exit 2 with the reason on bad settings),
/// bootstrap logging and metrics, build the application, run it until SIGTERM/SIGINT (exit 1 when it fails).
package enum APKMain {
    package static func run<Configuration: ServiceConfiguration, Application: ServiceApplication>(
        _ name: String, configuration _: Configuration.Type,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        build: (Configuration, ConfigReader, Logger) async throws -> Application
    ) async -> Never {
        let reader = ConfigReader(environment: environment)
        let configuration: Configuration
        do {
            configuration = try Configuration(reader: reader)
        } catch {
            FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
            exit(2)
        }
        let logger = APKLogging.bootstrap(label: name, level: configuration.logLevel)
        APKMetrics.bootstrap()
        do {
            let application = try await build(configuration, reader, logger)
            logger.info("starting \(name)", metadata: application.startupMetadata)
            try await APKServer.run(application.services, logger: logger)
            logger.info("\(name) stopped")
            exit(0)
        } catch {
            logger.critical("\(name) stopped", metadata: ["error.description": .string(String(describing: error))])
            exit(1)
        }
    }
}
