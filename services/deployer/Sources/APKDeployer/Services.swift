import APKStore
package import AsyncHTTPClient
package import Logging
import ServiceLifecycle

/// Owns the shared ``HTTPClient`` (JWKS fetches): idle while the group runs, shut down after the HTTP server.
package struct HTTPClientService: Service {
    package let client: HTTPClient
    package let logger: Logger

    package init(client: HTTPClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    package func run() async throws {
        try? await gracefulShutdown()
        do {
            try await client.shutdown()
        } catch {
            logger.warning("HTTP client shutdown failed", metadata: ["error.type": .string(String(describing: type(of: error)))])
        }
    }
}

/// Runs ``Deployer/bootstrap(logger:)`` until it succeeds (the database may start after us), backing off from 1 s
/// to 30 s, then idles until shutdown. Requests work meanwhile: keys and the dev client are also created on demand.
package struct ControlPlaneBootstrapService: Service {
    package let deployer: Deployer
    package let logger: Logger

    package init(deployer: Deployer, logger: Logger) {
        self.deployer = deployer
        self.logger = logger
    }

    package func run() async throws {
        var delay: Duration = .seconds(1)
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await deployer.bootstrap(logger: logger)
                logger.info("control plane ready")
                break
            } catch {
                logger.warning(
                    "control-plane bootstrap failed; retrying",
                    metadata: ["error.description": .string(error.description), "retry.after": .string("\(delay)")])
                let wait = delay
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
                delay = min(delay * 2, .seconds(30))
            }
        }
        try? await gracefulShutdown()
    }
}
