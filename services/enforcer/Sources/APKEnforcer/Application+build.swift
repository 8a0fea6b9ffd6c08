package import APKAuth
import APKHTTPClient
import APKRuntime
package import APKXDS
import AsyncHTTPClient
package import Logging
package import ServiceLifecycle

extension EnforcerConfiguration: ServiceConfiguration {}

/// The enforcer as its main runs it: the HTTP client, the key ring, the ext_authz gRPC server and the ops server.
package struct EnforcerApplication: ServiceApplication {
    package let configuration: EnforcerConfiguration
    package let keys: KeyRing
    package let grpcServer: XDSServerService
    package let services: [any Service]

    package var startupMetadata: Logger.Metadata {
        [
            "grpc.address": .string("\(configuration.grpcHost):\(configuration.grpcPort)"),
            "ops.address": .string(configuration.ops.baseURL),
            "auth.jwks.url": .string(configuration.jwksURL),
            "auth.issuers.external": "\(configuration.externalIssuers.count)",
        ]
    }
}

/// Builds the enforcer; `fetcher` replaces the HTTP JWKS fetcher in tests.
package func buildApplication(
    configuration: EnforcerConfiguration, logger: Logger, fetcher: (any JWKSFetcher)? = nil
) throws -> EnforcerApplication {
    var services: [any Service] = []
    let jwksFetcher: any JWKSFetcher
    if let fetcher {
        jwksFetcher = fetcher
    } else {
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        services.append(HTTPClientService(client: client, logger: logger))
        jwksFetcher = HTTPJWKSFetcher(client: client, timeout: .seconds(5))
    }
    let keys = KeyRing(
        sources: configuration.keySources, fetcher: jwksFetcher, cacheTTL: configuration.jwksCacheTTL, logger: logger)
    let authorization = AuthorizationService(handler: CheckHandler(), keys: keys, logger: logger)
    let grpcServer = XDSServerService(host: configuration.grpcHost, port: configuration.grpcPort, services: [authorization])
    let ops = try APKServer.opsApplication(
        settings: configuration.ops, serverName: "apk-enforcer", logger: logger, readiness: { keys.isReady })
    services += [keys, grpcServer, ops]
    return EnforcerApplication(configuration: configuration, keys: keys, grpcServer: grpcServer, services: services)
}
