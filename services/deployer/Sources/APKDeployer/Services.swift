package import APKSupport
package import Logging
import ServiceLifecycle

/// Runs ``Deployer/bootstrap(logger:)`` until it succeeds (the database may start after us), backing off per
/// ``Backoff`` (1 s doubling to 30 s, jittered), then idles until shutdown. Requests work meanwhile: keys and the dev
/// client are also created on demand.
package struct ControlPlaneBootstrapService: Service {
    package let deployer: Deployer
    package let logger: Logger
    package let backoff: Backoff

    package init(deployer: Deployer, logger: Logger, backoff: Backoff = Backoff(initial: .seconds(1), max: .seconds(30))) {
        self.deployer = deployer
        self.logger = logger
        self.backoff = backoff
    }

    package func run() async throws {
        let bootstrapped: Void? = await backoff.retry(
            until: { Task.isShuttingDownGracefully },
            sleep: { wait in try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) } },
            onFailure: { error, _, wait in
                logger.warning(
                    "control-plane bootstrap failed; retrying",
                    metadata: ["error.description": .string("\(error)"), "retry.after": .string("\(wait)")])
            },
            { try await deployer.bootstrap(logger: logger) })
        if bootstrapped != nil { logger.info("control plane ready") }
        try? await gracefulShutdown()
    }
}
