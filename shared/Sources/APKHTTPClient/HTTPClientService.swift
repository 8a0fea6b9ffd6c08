package import AsyncHTTPClient
package import Logging
import ServiceLifecycle

/// Owns the service's shared ``HTTPClient``: idle while the service group runs, shuts the client down on
/// graceful shutdown (after the HTTP server, which is started later and so stopped earlier).
package struct HTTPClientService: Service, CustomStringConvertible {
    package let client: HTTPClient
    package let logger: Logger

    package init(client: HTTPClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    package var description: String { "HTTPClientService" }

    package func run() async throws {
        // Returns on graceful shutdown; throws CancellationError if the group is cancelled instead.
        try? await gracefulShutdown()
        do {
            try await client.shutdown()
        } catch {
            logger.warning("HTTP client shutdown failed", metadata: ["error.type": .string(String(describing: type(of: error)))])
        }
    }
}
