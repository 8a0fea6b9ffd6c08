package import APKRuntime
package import APKSupport
package import Hummingbird
package import Logging
package import ServiceLifecycle

/// apk-echo's settings: `HTTP_HOST` (`127.0.0.1`), `HTTP_PORT` (`8088`), `LOG_LEVEL`, `JWKS_FILE` (unset: a test
/// token issuer's JWKS file, served at `GET /.well-known/jwks.json`), and `TLS_CERTIFICATE` + `TLS_KEY` (HTTPS).
package struct EchoConfiguration: ServiceConfiguration {
    package var host = "127.0.0.1"
    package var port = 8088
    package var logLevel: Logger.Level = .info
    package var jwksFile: String?
    /// HTTPS with these PEM files (`TLS_CERTIFICATE`, `TLS_KEY`): a JWKS behind TLS, as a `TokenIssuer` with
    /// `jwks.tls` names it.
    package var tls: HTTPServerSettings.TLS?

    package init() {}

    package init(reader: ConfigReader) throws {
        host = reader.string("http.host", default: host)
        port = try reader.int("http.port", default: port, range: 0...65535)
        logLevel = try APKLogging.level(from: reader)
        jwksFile = reader.string("jwks.file")
        tls = try HTTPServerSettings(reader: reader, defaultHost: host, defaultPort: port).tls
    }
}

/// apk-echo as its main runs it (one HTTP application), built the way every APK service is.
package struct EchoApplication: ServiceApplication {
    package let configuration: EchoConfiguration
    package let http: Application<RouterResponder<BasicRequestContext>>

    package var services: [any Service] { [http] }
    package var startupMetadata: Logger.Metadata { ["http.address": .string("\(configuration.host):\(configuration.port)")] }
}

/// Builds apk-echo: ``EchoRouter`` on the configured address.
package func buildApplication(configuration: EchoConfiguration, logger: Logger) throws -> EchoApplication {
    let settings = HTTPServerSettings(host: configuration.host, port: configuration.port, tls: configuration.tls)
    let http = APKServer.application(
        router: EchoRouter.build(jwksFile: configuration.jwksFile), settings: settings,
        server: try APKServer.serverBuilder(for: settings), serverName: "apk-echo", logger: logger)
    return EchoApplication(configuration: configuration, http: http)
}
