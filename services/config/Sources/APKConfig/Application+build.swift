import APKModel
import APKRuntime
package import Hummingbird
package import Logging
package import ServiceLifecycle

extension ConfigServiceConfiguration: ServiceConfiguration {}

/// The config service as its main runs it: one HTTP application.
package struct ConfigApplication: ServiceApplication {
    /// The HTTP application (tests drive it with HummingbirdTesting).
    package let http: Application<RouterResponder<BasicRequestContext>>
    package let configuration: ConfigServiceConfiguration

    package var services: [any Service] { [http] }
    package var startupMetadata: Logger.Metadata {
        [
            "http.address": .string(configuration.server.baseURL),
            "limits.max_body_bytes": .stringConvertible(configuration.maxBodyBytes),
            "url.fetch.allow": .string(configuration.urlFetchPolicy.summary),
        ]
    }
}

/// Builds the config service exactly as production runs it (tests call this too): the router with the error and
/// metrics middleware, the ops endpoints and the configurator routes.
///
/// Throws only on unusable TLS settings.
package func buildApplication(
    configuration: ConfigServiceConfiguration, logger: Logger? = nil
) throws -> ConfigApplication {
    let logger = logger ?? {
        var logger = Logger(label: "apk-config")
        logger.logLevel = configuration.logLevel
        return logger
    }()
    let server = try APKServer.serverBuilder(for: configuration.server)
    // One short-lived HTTP client per fetched URL hop (pinned to the checked address: DefinitionFetcher), so there
    // is no shared client to shut down.
    let fetcher = DefinitionFetcher(
        policy: configuration.urlFetchPolicy, timeout: configuration.urlFetchTimeout,
        maxBytes: configuration.urlFetchMaxBytes)
    let router = buildRouter(configuration: configuration, fetcher: fetcher)
    let http = APKServer.application(
        router: router, settings: configuration.server, server: server, serverName: "apk-config",
        logger: logger)
    return ConfigApplication(http: http, configuration: configuration)
}

/// The config service's router (middleware first: Hummingbird binds middleware to routes as they are added).
package func buildRouter(
    configuration: ConfigServiceConfiguration, fetcher: DefinitionFetcher
) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: RequestMetricsMiddleware())
    router.add(middleware: APKErrorMiddleware())
    OpsRoutes(registry: APKMetrics.bootstrap()).add(to: router)
    ConfigController(configuration: configuration, fetcher: fetcher).addRoutes(to: router)
    return router
}
