package import Hummingbird
package import HummingbirdCore
import HummingbirdTLS
package import Logging
package import NIOCore
package import NIOSSL
package import ServiceLifecycle
import UnixSignals

/// Service bootstrap: a Hummingbird ``Application`` on the configured address (TLS when configured) and the
/// `ServiceGroup` that runs it until SIGTERM/SIGINT.
package enum APKServer {
    /// Why a server could not be set up (bad certificate or key file, …).
    package struct SetupFailure: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    /// Plain HTTP/1.1, or HTTP/1.1 over TLS when `settings.tls` is set (loading the PEM files now), every connection
    /// guarded by ``ConnectionGuard`` with `settings.limits` (`counters` shows what the guards hold).
    package static func serverBuilder(
        for settings: HTTPServerSettings, counters: ConnectionCounters = ConnectionCounters()
    ) throws(SetupFailure) -> HTTPServerBuilder {
        let limits = settings.limits
        let http1 = HTTPServerBuilder.http1(
            configuration: .init(additionalChannelHandlers: [ConnectionGuard(limits: limits, counters: counters)]))
        guard let tls = settings.tls else { return http1 }
        let configuration = try tlsConfiguration(tls)
        do {
            return try .tls(http1, tlsConfiguration: configuration)
        } catch {
            throw SetupFailure(description: "cannot set up TLS: \(error)")
        }
    }

    /// An application serving `router` on `settings` with `server` (from ``serverBuilder(for:)``); `services`
    /// start before the server and stop after it.
    package static func application<Context: RequestContext>(
        router: Router<Context>, settings: HTTPServerSettings, server: HTTPServerBuilder, serverName: String? = nil,
        services: [any Service] = [], onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in },
        logger: Logger
    ) -> Application<RouterResponder<Context>>
    where Context: InitializableFromSource<ApplicationRequestContextSource> {
        Application(
            router: router, server: server,
            configuration: ApplicationConfiguration(
                address: .hostname(settings.host, port: settings.port), serverName: serverName),
            services: services, onServerRunning: onServerRunning, logger: logger)
    }

    /// The server-side TLS configuration for a PEM certificate chain and private key.
    package static func tlsConfiguration(_ tls: HTTPServerSettings.TLS) throws(SetupFailure) -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificatePath)
            guard !chain.isEmpty else {
                throw SetupFailure(description: "no certificate in \(tls.certificatePath)")
            }
            let key = try NIOSSLPrivateKey(file: tls.keyPath, format: .pem)
            return TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        } catch let failure as SetupFailure {
            throw failure
        } catch {
            // NIOSSL's errors name the file operation, never key material.
            throw SetupFailure(description: "cannot load TLS certificate/key: \(error)")
        }
    }

    /// Runs `services` (e.g. the application) in one group until SIGTERM or SIGINT, then shuts them down
    /// gracefully in reverse order.
    package static func run(_ services: [any Service], logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
