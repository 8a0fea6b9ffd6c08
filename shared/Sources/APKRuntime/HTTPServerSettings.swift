package import APKSupport
/// Where and how a service's HTTP server listens: host, port and optional TLS.
package struct HTTPServerSettings: Sendable, Hashable {
    /// PEM file paths of the server certificate chain and its private key.
    package struct TLS: Sendable, Hashable {
        package var certificatePath: String
        package var keyPath: String

        package init(certificatePath: String, keyPath: String) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }
    }

    package var host: String
    package var port: Int
    /// nil serves plain HTTP.
    package var tls: TLS?
    /// Read timeouts and caps on connections and requests.
    package var limits: ConnectionLimits

    package init(host: String, port: Int, tls: TLS? = nil, limits: ConnectionLimits = ConnectionLimits()) {
        self.host = host
        self.port = port
        self.tls = tls
        self.limits = limits
    }

    /// Reads `http.host`, `http.port`, `tls.certificate` and `tls.key` (both TLS keys or neither), and the limits:
    /// `http.header.timeout.seconds` (1…60, default 30), `http.body.timeout.seconds` (1…3600, default 60),
    /// `http.max.connections` (1…100000, default 1024), `http.max.requests` (1…100000, default 512).
    package init(reader: ConfigReader, defaultHost: String, defaultPort: Int) throws(ConfigReader.Failure) {
        host = reader.string("http.host", default: defaultHost)
        port = try reader.int("http.port", default: defaultPort, range: 0...65535)
        var limits = ConnectionLimits()
        limits.headerTimeout = .seconds(try reader.int("http.header.timeout.seconds", default: 30, range: 1...60))
        limits.bodyTimeout = .seconds(try reader.int("http.body.timeout.seconds", default: 60, range: 1...3600))
        limits.maxConnections = try reader.int("http.max.connections", default: limits.maxConnections, range: 1...100_000)
        limits.maxConcurrentRequests = try reader.int("http.max.requests", default: limits.maxConcurrentRequests, range: 1...100_000)
        self.limits = limits
        switch (reader.string("tls.certificate"), reader.string("tls.key")) {
        case (nil, nil):
            tls = nil
        case (let certificate?, let key?):
            tls = TLS(certificatePath: certificate, keyPath: key)
        case (nil, _):
            throw ConfigReader.Failure(key: "tls.certificate", reason: "must be set together with TLS_KEY")
        case (_, nil):
            throw ConfigReader.Failure(key: "tls.key", reason: "must be set together with TLS_CERTIFICATE")
        }
    }

    /// The largest request body a service may be configured to accept (`LIMITS_MAX_BODY_BYTES`): 256 MiB.
    package static let maxBodyBytesCeiling = 256 << 20

    /// `http://host:port` or `https://host:port`.
    package var baseURL: String { "\(tls == nil ? "http" : "https")://\(host):\(port)" }
}
