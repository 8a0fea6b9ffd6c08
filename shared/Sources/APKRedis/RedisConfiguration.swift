package import APKSupport

/// Where Redis is and how to talk to it. The password is a secret: it is never part of `description` or an error.
package struct RedisConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// Host name or address of the server.
    package var host: String
    /// TCP port.
    package var port: Int
    /// ACL user name for `AUTH user password`; nil sends `AUTH password` (the `default` user).
    package var username: String?
    /// Password for `AUTH`; nil skips authentication. Secret.
    package var password: String?
    /// Database index for `SELECT`; 0 skips it.
    package var database: Int
    /// Bound on opening one connection, TCP connect, `AUTH` and `SELECT` together.
    package var connectTimeout: Duration
    /// Bound on waiting for a reply; nil waits as long as the connection lives. An overdue reply closes the
    /// connection (failing its other pending requests too); the pool then reconnects.
    package var commandTimeout: Duration?
    /// Connections the pool opens at most (at least 1).
    package var maxConnections: Int
    /// Wait between reconnect attempts of a broken pool connection.
    package var reconnectBackoff: Backoff
    /// What replies may hold.
    package var decoderLimits: RESPDecoder.Limits

    /// Creates a configuration; the defaults connect to a local Redis without authentication.
    package init(
        host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
        database: Int = 0, connectTimeout: Duration = .seconds(2), commandTimeout: Duration? = .seconds(1),
        maxConnections: Int = 4,
        reconnectBackoff: Backoff = Backoff(initial: .milliseconds(50), max: .seconds(2), jitter: 0.2),
        decoderLimits: RESPDecoder.Limits = .defaults
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.maxConnections = maxConnections
        self.reconnectBackoff = reconnectBackoff
        self.decoderLimits = decoderLimits
    }

    /// `redis://host:port/db`, with `***` for a password.
    package var description: String {
        let credentials = password == nil ? "" : "\(username ?? ""):***@"
        return "redis://\(credentials)\(host):\(port)/\(database)"
    }
}
