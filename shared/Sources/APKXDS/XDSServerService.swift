package import GRPCCore
import GRPCNIOTransportHTTP2
import ServiceLifecycle

/// A ServiceLifecycle `Service` running a plaintext HTTP/2 `GRPCServer` (which is not a `Service` itself):
/// `run()` serves until the transport closes; graceful shutdown calls `beginGracefulShutdown()`, which stops
/// accepting streams and lets open ones drain.
package struct XDSServerService: Service {
    private let server: GRPCServer<HTTP2ServerTransport.Posix>

    /// Creates the server on `host:port` (port 0 picks a free port; see ``listeningPort()``).
    package init(host: String, port: Int, services: [any RegistrableRPCService]) {
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

    /// Serves until the transport closes or graceful shutdown completes.
    package func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.serve()
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}
