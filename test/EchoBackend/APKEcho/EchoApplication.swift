import APKRuntime
package import APKSupport
package import Hummingbird
package import Logging
package import ServiceLifecycle

/// apk-echo's settings: `HTTP_HOST` (`127.0.0.1`), `HTTP_PORT` (`8088`), `LOG_LEVEL`, and `JWKS_FILE` (unset: a test
/// token issuer's JWKS file, served at `GET /.well-known/jwks.json`).
package struct EchoConfiguration: ServiceConfiguration {
    package var host = "127.0.0.1"
    package var port = 8088
    package var logLevel: Logger.Level = .info
    package var jwksFile: String?

    package init() {}

    package init(reader: ConfigReader) throws {
        host = reader.string("http.host", default: host)
        port = try reader.int("http.port", default: port, range: 0...65535)
        logLevel = try APKLogging.level(from: reader)
        jwksFile = reader.string("jwks.file")
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
package func buildApplication(configuration: EchoConfiguration, logger: Logger) -> EchoApplication {
    let http = Application(
        router: EchoRouter.build(jwksFile: configuration.jwksFile),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "apk-echo"),
        logger: logger)
    return EchoApplication(configuration: configuration, http: http)
}
