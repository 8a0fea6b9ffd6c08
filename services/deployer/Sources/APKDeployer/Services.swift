package import APKSupport
import Foundation
package import Logging
import ServiceLifecycle

/// Runs ``Deployer/bootstrap(logger:)`` until it succeeds (the database may start after us), backing off per
/// ``Backoff`` (1 s doubling to 30 s, jittered), then idles until shutdown. Requests work meanwhile: keys and the dev
/// client are also created on demand.
package struct ControlPlaneBootstrapService: Service, CustomStringConvertible {
    package let deployer: Deployer
    package let logger: Logger
    package let backoff: Backoff
    /// Called when the stored signing keys cannot be decrypted: ends the process (exit status 1) by default.
    package let onFatal: @Sendable (SigningKeySealer.Failure) -> Void

    package init(
        deployer: Deployer, logger: Logger, backoff: Backoff = Backoff(initial: .seconds(1), max: .seconds(30)),
        onFatal: @escaping @Sendable (SigningKeySealer.Failure) -> Void = { _ in exit(1) }
    ) {
        self.deployer = deployer
        self.logger = logger
        self.backoff = backoff
        self.onFatal = onFatal
    }

    /// The service's name only: the deployer (configuration, keys) is never described in logs.
    package var description: String { "ControlPlaneBootstrapService" }

    /// Stops the process (``onFatal``, then throws) when a stored signing key cannot be decrypted: retrying cannot
    /// help, and serving without the keys would be wrong. The exit is direct because cancelling the service group
    /// does not reliably end it (a pooled `LISTEN` connection may keep the PostgreSQL client running). Store
    /// failures are retried.
    package func run() async throws {
        let outcome: SigningKeySealer.Failure?? = await backoff.retry(
            until: { Task.isShuttingDownGracefully },
            sleep: { wait in try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) } },
            onFailure: { error, _, wait in
                logger.warning(
                    "control-plane bootstrap failed; retrying",
                    metadata: ["error.description": .string("\(error)"), "retry.after": .string("\(wait)")])
            },
            { () async throws -> SigningKeySealer.Failure? in
                do {
                    try await deployer.bootstrap(logger: logger)
                    return nil
                } catch let failure as SigningKeySealer.Failure {
                    return failure
                }
            })
        if case .some(.some(let failure)) = outcome {
            logger.critical(
                "cannot decrypt the stored signing keys: check SIGNING_KEY_KEK[_FILE] and SIGNING_KEY_KEK_PREVIOUS[_FILE]",
                metadata: ["error.description": .string(failure.description), "apk.key.id": .string(failure.kid)])
            onFatal(failure)
            throw failure
        }
        if outcome != nil { logger.info("control plane ready") }
        try? await gracefulShutdown()
    }
}
