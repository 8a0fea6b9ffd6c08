import APKRuntime
import Logging
import Testing
import APKSupport

@Suite struct ConfigReaderTests {
    @Test(arguments: [
        ("http.port", "HTTP_PORT"), ("tls.certificate", "TLS_CERTIFICATE"),
        ("limits.max-body-bytes", "LIMITS_MAX_BODY_BYTES"), ("log.level", "LOG_LEVEL"),
    ])
    func variableNames(key: String, variable: String) {
        #expect(ConfigReader.variableName(for: key) == variable)
    }

    @Test func stringsTrimAndTreatEmptyAsUnset() {
        let reader = ConfigReader(environment: ["HTTP_HOST": "  0.0.0.0 \n", "GATEWAY_NAME": "   "])
        #expect(reader.string("http.host") == "0.0.0.0")
        #expect(reader.string("gateway.name") == nil)
        #expect(reader.string("gateway.name", default: "gw") == "gw")
    }

    @Test func integersAreNumbersWithinRange() throws {
        let reader = ConfigReader(environment: ["HTTP_PORT": "8080", "BAD": "80a", "BIG": "70000"])
        #expect(try reader.int("http.port", default: 1) == 8080)
        #expect(try reader.int("missing", default: 9443) == 9443)
        #expect(throws: ConfigReader.Failure.self) { try reader.int("bad", default: 1) }
        #expect(throws: ConfigReader.Failure.self) { try reader.int("big", default: 1, range: 0...65535) }
    }

    @Test func failureNamesTheVariable() {
        let reader = ConfigReader(environment: ["HTTP_PORT": "x"])
        #expect {
            try reader.int("http.port", default: 1)
        } throws: { error in
            "\(error)".contains("HTTP_PORT")
        }
    }

    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)), ("10s", .seconds(10)), ("2m", .seconds(120)), ("1h", .seconds(3600)),
        ("5", .seconds(5)), ("1.5", .milliseconds(1500)),
    ])
    func durations(text: String, expected: Duration) throws {
        let reader = ConfigReader(environment: ["URL_FETCH_TIMEOUT": text])
        #expect(try reader.duration("url.fetch.timeout", default: .seconds(1)) == expected)
    }

    @Test(arguments: ["", "abc", "-1s", "0", "10 parsecs", "nan"])
    func badDurationsAreRejectedOrDefaulted(text: String) throws {
        let reader = ConfigReader(environment: ["T": text])
        if text.isEmpty {
            #expect(try reader.duration("t", default: .seconds(3)) == .seconds(3))
        } else {
            #expect(throws: ConfigReader.Failure.self) { try reader.duration("t", default: .seconds(3)) }
        }
    }

    @Test func booleansAndLists() throws {
        let reader = ConfigReader(environment: ["A": "yes", "B": "off", "C": "maybe", "L": " a.com, ,b.com ,"])
        #expect(try reader.bool("a", default: false))
        #expect(try !reader.bool("b", default: true))
        #expect(throws: ConfigReader.Failure.self) { try reader.bool("c", default: true) }
        #expect(reader.list("l", default: []) == ["a.com", "b.com"])
        #expect(reader.list("none", default: ["x"]) == ["x"])
    }

    @Test func serverSettings() throws {
        let plain = try HTTPServerSettings(reader: ConfigReader(environment: [:]), defaultHost: "127.0.0.1", defaultPort: 9443)
        #expect(plain == HTTPServerSettings(host: "127.0.0.1", port: 9443))
        #expect(plain.baseURL == "http://127.0.0.1:9443")
        let tls = try HTTPServerSettings(
            reader: ConfigReader(environment: ["HTTP_PORT": "0", "TLS_CERTIFICATE": "/c.pem", "TLS_KEY": "/k.pem"]),
            defaultHost: "127.0.0.1", defaultPort: 9443)
        #expect(tls.port == 0)
        #expect(tls.tls == HTTPServerSettings.TLS(certificatePath: "/c.pem", keyPath: "/k.pem"))
        #expect(throws: ConfigReader.Failure.self) {
            try HTTPServerSettings(
                reader: ConfigReader(environment: ["TLS_CERTIFICATE": "/c.pem"]), defaultHost: "h", defaultPort: 1)
        }
    }

    @Test func logLevel() throws {
        #expect(try APKLogging.level(from: ConfigReader(environment: [:])) == .info)
        #expect(try APKLogging.level(from: ConfigReader(environment: ["LOG_LEVEL": "DEBUG"])) == .debug)
        #expect(throws: ConfigReader.Failure.self) {
            try APKLogging.level(from: ConfigReader(environment: ["LOG_LEVEL": "loud"]))
        }
    }

    @Test func missingTLSFilesFailAtSetup() {
        let settings = HTTPServerSettings(
            host: "127.0.0.1", port: 0, tls: .init(certificatePath: "/nonexistent/c.pem", keyPath: "/nonexistent/k.pem"))
        #expect(throws: APKServer.SetupFailure.self) { try APKServer.serverBuilder(for: settings) }
    }
}
