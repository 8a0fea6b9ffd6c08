import Foundation
package import PostgresNIO

extension PostgresStore {
    /// Where and how to reach PostgreSQL.
    ///
    /// Build it from a `DATABASE_URL` (``init(url:)``) or from fields. `password` is a secret: it is never logged and
    /// ``description`` leaves it out.
    package struct Configuration: Sendable, CustomStringConvertible {
        package enum Endpoint: Sendable, Hashable {
            case tcp(host: String, port: Int)
            /// The socket file itself (e.g. `/run/postgresql/.s.PGSQL.5432`).
            case unixSocket(path: String)
        }

        /// libpq's `sslmode`, reduced to what postgres-nio offers.
        package enum TLSMode: String, Sendable, Hashable {
            /// Plain TCP (the default: the local stack's cluster has no TLS).
            case disable
            /// TLS when the server offers it, without certificate verification (libpq `prefer`).
            case prefer
            /// TLS required, without certificate verification (libpq `require`).
            case require
            /// TLS required with full certificate and host-name verification (libpq `verify-ca`/`verify-full`).
            case verifyFull = "verify-full"
        }

        /// TCP host and port, or a unix socket.
        package var endpoint: Endpoint
        /// The database role.
        package var username: String
        /// Secret.
        package var password: String?
        /// The database name.
        package var database: String
        /// Transport security (`sslmode` of the URL).
        package var tls: TLSMode = .disable
        /// Pool size.
        package var maximumConnections = 10
        /// Longest wait for a new connection and for a free pooled connection; past it an operation fails with
        /// ``StoreError/unavailable(_:)``.
        package var connectTimeout: Duration = .seconds(5)
        /// Server-side `statement_timeout` for every statement (nil: the server's default).
        package var statementTimeout: Duration? = .seconds(30)
        /// `application_name` shown in `pg_stat_activity`.
        package var applicationName = "apk"

        /// A TCP endpoint.
        package init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String) {
            self.endpoint = .tcp(host: host, port: port)
            self.username = username
            self.password = password
            self.database = database
        }

        /// A unix-socket endpoint (`unixSocketPath` is the socket file).
        package init(unixSocketPath: String, username: String, password: String? = nil, database: String) {
            self.endpoint = .unixSocket(path: unixSocketPath)
            self.username = username
            self.password = password
            self.database = database
        }

        /// Parses `postgres[ql]://user[:password]@host[:port]/database[?sslmode=…&host=/socket/dir&port=…&application_name=…]`.
        ///
        /// A host that is a path (percent-encoded in the authority, or the `host` query parameter as in libpq) selects a
        /// unix socket: a directory gets `/.s.PGSQL.<port>` appended. Errors never echo the URL (it may hold a password).
        package init(url: String) throws(StoreError) {
            guard let components = URLComponents(string: url), let scheme = components.scheme,
                scheme == "postgres" || scheme == "postgresql"
            else { throw .failed("DATABASE_URL is not a postgres:// URL") }
            let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
            let port = components.port ?? query["port"].flatMap { Int($0) } ?? 5432
            let database = String(components.path.drop { $0 == "/" })
            let host = query["host"] ?? components.host.flatMap { $0.removingPercentEncoding } ?? ""
            let username = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
            let password = components.password.flatMap { $0.removingPercentEncoding }
            let name = database.isEmpty ? username : (database.removingPercentEncoding ?? database)
            if host.hasPrefix("/") {
                let path = host.contains("/.s.PGSQL.") ? host : "\(host.hasSuffix("/") ? String(host.dropLast()) : host)/.s.PGSQL.\(port)"
                self.init(unixSocketPath: path, username: username, password: password, database: name)
            } else {
                self.init(host: host.isEmpty ? "127.0.0.1" : host, port: port, username: username, password: password, database: name)
            }
            if let mode = query["sslmode"] {
                switch mode {
                case "disable", "allow": tls = .disable
                case "prefer": tls = .prefer
                case "require": tls = .require
                case "verify-ca", "verify-full": tls = .verifyFull
                default: throw .failed("unknown sslmode \(mode.prefix(20))")
                }
            }
            if let application = query["application_name"], !application.isEmpty { applicationName = application }
        }

        /// The configuration from `DATABASE_URL` in `environment`, or nil when it is not set.
        package static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                                            variable: String = "DATABASE_URL") throws(StoreError) -> Configuration? {
            guard let url = environment[variable], !url.isEmpty else { return nil }
            return try Configuration(url: url)
        }

        /// `postgres://user@host:port/db` without the password (safe to log).
        package var description: String {
            switch endpoint {
            case .tcp(let host, let port): "postgres://\(username)@\(host):\(port)/\(database)"
            case .unixSocket(let path): "postgres://\(username)@[\(path)]/\(database)"
            }
        }

        /// The postgres-nio client configuration.
        package var clientConfiguration: PostgresClient.Configuration {
            var configuration: PostgresClient.Configuration
            switch endpoint {
            case .tcp(let host, let port):
                configuration = PostgresClient.Configuration(
                    host: host, port: port, username: username, password: password, database: database, tls: clientTLS)
            case .unixSocket(let path):
                configuration = PostgresClient.Configuration(
                    unixSocketPath: path, username: username, password: password, database: database)
            }
            configuration.options.maximumConnections = max(maximumConnections, 2)
            configuration.options.connectTimeout = connectTimeout
            var parameters = [("application_name", applicationName)]
            if let statementTimeout {
                parameters.append(("statement_timeout", "\(Self.milliseconds(statementTimeout))"))
            }
            configuration.options.additionalStartupParameters = parameters
            return configuration
        }

        private var clientTLS: PostgresClient.Configuration.TLS {
            var unverified = TLSConfiguration.makeClientConfiguration()
            unverified.certificateVerification = .none
            switch tls {
            case .disable: return .disable
            case .prefer: return .prefer(unverified)
            case .require: return .require(unverified)
            case .verifyFull: return .require(.makeClientConfiguration())
            }
        }

        static func milliseconds(_ duration: Duration) -> Int64 {
            let (seconds, attoseconds) = duration.components
            return seconds * 1000 + attoseconds / 1_000_000_000_000_000
        }
    }
}
