package import APKAuth
import APKHTTPClient
import APKRuntime
import APKUnaryGRPC
import APKXDS
import AsyncHTTPClient
import CryptoExtras
import Foundation
import Hummingbird
import APKSupport
import NIOCore
package import Logging
package import ServiceLifecycle

extension EnforcerConfiguration: ServiceConfiguration {}

/// The enforcer as its main runs it: the HTTP client, the key ring, the ext_authz gRPC server and the ops server.
package struct EnforcerApplication: ServiceApplication {
    package let configuration: EnforcerConfiguration
    package let keys: KeyRing
    /// The bound port of the ext_authz server once it listens (port 0 in tests).
    package let grpcPort: @Sendable () async -> Int?
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
    let backendJWT = try BackendJWTSigner(privateKey: try backendJWTKey(configuration: configuration, logger: logger))
    let handler = CheckHandler(backendJWT: backendJWT)
    let authorization = AuthorizationService(handler: handler, keys: keys, logger: logger)
    let grpcServer: any Service
    let grpcPort: @Sendable () async -> Int?
    switch configuration.grpcServer {
    case .lean:
        let server = UnaryGRPCServer(
            host: configuration.grpcHost, port: configuration.grpcPort, methods: [authorization.checkMethod], logger: logger)
        (grpcServer, grpcPort) = (server, { await server.listeningPort() })
    case .grpcSwift:
        let server = XDSServerService(host: configuration.grpcHost, port: configuration.grpcPort, services: [authorization])
        (grpcServer, grpcPort) = (server, { await server.listeningPort() })
    }
    let jwks = backendJWT.jwks
    // The organizations' token issuers from the adapter; without discovery only the gateway's own are trusted.
    let discovery = IssuerDiscovery(keys: keys, logger: logger)
    if let upstream = configuration.discovery {
        services.append(discovery.client(host: upstream.host, port: upstream.port, nodeID: configuration.discoveryNodeID))
    }
    let needsDiscovery = configuration.discovery != nil
    let ops = try APKServer.opsApplication(
        settings: configuration.ops, serverName: "apk-enforcer", logger: logger,
        readiness: { keys.isReady && (!needsDiscovery || discovery.hasReceived) }
    ) { router in
        // The public key of backend JWTs (contract §7.7), for backends to verify the X-JWT-Assertion they receive.
        router.get("jwks") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: jwks)))
        }
        // `native` mode's backend-JWT stage on a cache miss (services/enforcer/README.md): the route's plan as the
        // body, the request's credential headers as headers, its path in `x-apk-original-path`.
        router.post("backend-jwt") { request, context in
            try await BackendJWTEndpoint.answer(request, context: context, handler: handler, keys: keys, logger: logger)
        }
    }
    services += [keys, grpcServer, ops]
    return EnforcerApplication(configuration: configuration, keys: keys, grpcPort: grpcPort, services: services)
}

/// The backend-JWT signing key: the PEM file of `BACKEND_JWT_KEY_FILE`, else one generated now (fine for one
/// enforcer; replicas must share a key or backends would see several).
func backendJWTKey(configuration: EnforcerConfiguration, logger: Logger) throws -> _RSA.Signing.PrivateKey {
    guard let path = configuration.backendJWTKeyFile else {
        logger.notice("backend JWTs are signed with a key generated at start; set BACKEND_JWT_KEY_FILE when running replicas")
        return try _RSA.Signing.PrivateKey(keySize: .bits2048)
    }
    do {
        return try _RSA.Signing.PrivateKey(pemRepresentation: try String(contentsOfFile: path, encoding: .utf8))
    } catch {
        throw ConfigReader.Failure(key: "backend.jwt.key.file", reason: "\(path) is not a readable RSA private key (PEM)")
    }
}
