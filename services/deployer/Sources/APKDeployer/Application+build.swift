import APKAuthPlan
import APKHTTPClient
import APKModel
import APKRuntime
import AsyncHTTPClient
import Foundation
package import Hummingbird
package import Logging
package import ServiceLifecycle
import APKAuth

/// Builds the deployer's HTTP application exactly as production runs it (tests call this too): the router with
/// the error and denial middleware and every route of ``Deployer``. `services` (store pools, HTTP client,
/// bootstrap) start before the server and stop after it.
///
/// Throws only on unusable TLS settings.
package func buildHTTPApplication(
    deployer: Deployer, services: [any Service] = [], logger: Logger
) throws -> Application<RouterResponder<BasicRequestContext>> {
    let server = try APKServer.serverBuilder(for: deployer.configuration.server)
    return APKServer.application(
        router: buildRouter(deployer: deployer), settings: deployer.configuration.server, server: server,
        serverName: "apk-deployer", services: services, logger: logger)
}

/// The deployer's router (middleware first: Hummingbird binds middleware to routes as they are added).
package func buildRouter(deployer: Deployer) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: APKErrorMiddleware())
    router.add(middleware: DenialMiddleware())
    deployer.addRoutes(to: router)
    return router
}

extension DeployerConfiguration: ServiceConfiguration {}

/// The deployer as its main runs it: everything in start order — the stores' services, the shared HTTP client,
/// the control-plane bootstrap (retried until the database answers) and the HTTP server.
package struct DeployerApplication: ServiceApplication {
    package let deployer: Deployer
    package let services: [any Service]

    package var startupMetadata: Logger.Metadata {
        [
            "http.address": .string(deployer.configuration.server.baseURL),
            "token.issuer": .string(deployer.configuration.token.issuer),
            "auth.external_issuers": .stringConvertible(deployer.configuration.auth.externalIssuers.count),
        ]
    }
}

/// Builds the deployer over `stores` exactly as production runs it.
package func buildApplication(
    configuration: DeployerConfiguration, stores: DeployerStores, logger: Logger
) throws -> DeployerApplication {
    let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
    let fetcher = HTTPJWKSFetcher(client: client, timeout: configuration.auth.jwksFetchTimeout)
    let deployer = Deployer(configuration: configuration, stores: stores, jwksFetcher: fetcher, logger: logger)
    let http = try buildHTTPApplication(deployer: deployer, logger: logger)
    return DeployerApplication(
        deployer: deployer,
        services: stores.services + [
            HTTPClientService(client: client, logger: logger),
            ControlPlaneBootstrapService(deployer: deployer, logger: logger),
            http,
        ])
}

/// Answers ``CallerDenied`` (refused bearer tokens) with the §7.6 denial the router sends for the same refusal.
/// Inside ``APKErrorMiddleware``, which renders every other error (§2.4) and adds the request id to both.
struct DenialMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let denied as CallerDenied {
            context.logger.info(
                "request denied",
                metadata: [
                    "error.code": .stringConvertible(denied.denial.code), "http.status": .stringConvertible(denied.denial.status),
                    "http.method": .string(request.method.rawValue),
                ])
            return denied.response()
        }
    }
}
