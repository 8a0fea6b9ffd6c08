package import APKSupport
package import GRPCCore
import GRPCNIOTransportHTTP2

extension XDSClient {
    /// Makes the client transport an ``XDSClient`` runs its ADS streams on.
    ///
    /// The client makes one transport and opens every stream (the first and each reconnect) on it; it asks for a new
    /// one only if the transport itself fails. Tests pass an in-process transport's client; production uses
    /// ``plaintext(host:port:backoff:)``.
    package struct Connector: Sendable {
        private let make: @Sendable () throws -> any ClientTransport

        /// Wraps a transport factory.
        package init(_ make: @escaping @Sendable () throws -> any ClientTransport) {
            self.make = make
        }

        /// A new transport.
        package func makeTransport() throws -> any ClientTransport {
            try make()
        }

        /// Plaintext HTTP/2 to `host:port` (a DNS name or an IP literal), with keepalive pings every 30 s while the
        /// stream is open (a dead peer is noticed within ~40 s) and the transport's own connection back-off set to
        /// `backoff`, so a restarted server is reached as soon as the client's back-off allows.
        package static func plaintext(host: String, port: Int, backoff: Backoff = .defaults) -> Self {
            Self {
                try HTTP2ClientTransport.Posix(
                    target: .dns(host: host, port: port),
                    transportSecurity: .plaintext,
                    config: .defaults { config in
                        let initial = Swift.max(backoff.initial, .milliseconds(1))
                        config.backoff = HTTP2ClientTransport.Config.Backoff(
                            initial: initial, max: Swift.max(backoff.max, initial),
                            multiplier: backoff.multiplier.isFinite ? Swift.max(backoff.multiplier, 1) : 1,
                            jitter: backoff.jitter.isFinite ? Swift.min(Swift.max(backoff.jitter, 0), 1) : 0)
                        config.connection.keepalive = HTTP2ClientTransport.Config.Keepalive(
                            time: .seconds(30), timeout: .seconds(10), allowWithoutCalls: false)
                    }
                )
            }
        }
    }
}
