package import GRPCCore
import GRPCNIOTransportHTTP2
import ServiceLifecycle

/// A ServiceLifecycle `Service` running a plaintext HTTP/2 `GRPCServer` (which is not a `Service` itself):
/// `run()` serves until the transport closes; graceful shutdown calls `beginGracefulShutdown()`, which stops
/// accepting streams and lets open ones drain for at most `drainTimeout`, then closes the rest.
///
/// xDS streams never end by themselves (Envoy keeps them open for as long as the server lives), so without the
/// deadline a SIGTERM would leave the process running, still holding Envoy's stream, until it is killed.
package struct XDSServerService: Service {
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let drainTimeout: Duration

    /// Creates the server on `host:port` (port 0 picks a free port; see ``listeningPort()``).
    package init(host: String, port: Int, services: [any RegistrableRPCService], drainTimeout: Duration = .seconds(2)) {
        self.drainTimeout = drainTimeout
        self.server = GRPCServer(
            transport: .http2NIOPosix(
                address: .ipv4(host: host, port: port),
                transportSecurity: .plaintext
            ),
            services: services
        )
    }

    /// The bound port once the server listens (nil if it failed to bind).
    package func listeningPort() async -> Int? {
        guard let address = try? await server.listeningAddress else { return nil }
        return address.ipv4?.port ?? address.ipv6?.port
    }

    /// Serves until the transport closes, or until graceful shutdown has drained the streams (or `drainTimeout`
    /// passed: then the remaining streams are cancelled).
    package func run() async throws {
        let server = self.server
        let drainTimeout = self.drainTimeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            group.addTask {
                do {
                    try await gracefulShutdown()
                } catch {
                    return  // cancelled: the server stopped first
                }
                server.beginGracefulShutdown()
                try? await Task.sleep(for: drainTimeout)
            }
            // Whichever ends first (the server, or the drain deadline) ends the other.
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}
