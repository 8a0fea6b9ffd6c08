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

    package init(host: String, port: Int, tls: TLS? = nil) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    /// Reads `http.host`, `http.port`, `tls.certificate` and `tls.key` (both TLS keys or neither).
    package init(reader: ConfigReader, defaultHost: String, defaultPort: Int) throws(ConfigReader.Failure) {
        host = reader.string("http.host", default: defaultHost)
        port = try reader.int("http.port", default: defaultPort, range: 0...65535)
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

    /// `http://host:port` or `https://host:port`.
    package var baseURL: String { "\(tls == nil ? "http" : "https")://\(host):\(port)" }
}
