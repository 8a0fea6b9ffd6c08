import APKConfig
import APKRuntime
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix

/// A `multipart/form-data` body built by hand, as curl would send it.
struct MultipartBody {
    struct Part {
        var name: String
        var filename: String?
        var contentType: String?
        var bytes: [UInt8]
    }

    var boundary = "----APKTestBoundary7MA4YWxkTrZu0gW"
    var parts: [Part] = []

    mutating func file(_ name: String, filename: String, _ text: String, contentType: String = "application/octet-stream") {
        parts.append(Part(name: name, filename: filename, contentType: contentType, bytes: Array(text.utf8)))
    }

    mutating func file(_ name: String, filename: String, bytes: [UInt8]) {
        parts.append(Part(name: name, filename: filename, contentType: "application/octet-stream", bytes: bytes))
    }

    mutating func text(_ name: String, _ value: String) {
        parts.append(Part(name: name, bytes: Array(value.utf8)))
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            out += Array("--\(boundary)\r\n".utf8)
            var disposition = "Content-Disposition: form-data; name=\"\(part.name)\""
            if let filename = part.filename { disposition += "; filename=\"\(filename)\"" }
            out += Array("\(disposition)\r\n".utf8)
            if let type = part.contentType { out += Array("Content-Type: \(type)\r\n".utf8) }
            out += Array("\r\n".utf8)
            out += part.bytes
            out += Array("\r\n".utf8)
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }

    var buffer: ByteBuffer { ByteBuffer(bytes: bytes) }

    var headers: HTTPFields { [.contentType: contentType] }
}

enum TestConfig {
    static let logger: Logger = {
        var logger = Logger(label: "apk-config-test")
        logger.logLevel = .critical
        return logger
    }()

    static func configuration(fetchTimeout: Duration = .seconds(60), maxBodyBytes: Int = 10 << 20) -> ConfigServiceConfiguration {
        var configuration = ConfigServiceConfiguration()
        configuration.server.port = 0
        configuration.urlFetchTimeout = fetchTimeout
        configuration.maxBodyBytes = maxBodyBytes
        return configuration
    }

    static func app(_ configuration: ConfigServiceConfiguration = configuration()) throws -> some ApplicationProtocol {
        try buildApplication(configuration: configuration, logger: logger).http
    }

    /// The fetch policy of tests that fetch from local servers: 127.0.0.1 allowed explicitly (the production
    /// default refuses loopback). Safe: a literal the tests know to be valid.
    static let loopbackAllowed = try! AddressPolicy(allowList: ["127.0.0.1"])

    static let paths = [
        "/api/configurator/apis", "/api/configurator/1.3.0/apis",
    ]
}

enum Samples {
    static let petstore = """
        openapi: 3.0.1
        info:
          title: Swagger Petstore
          version: 1.0.0
        servers:
          - url: http://petstore.swagger.io/v1
        paths:
          /pets:
            get:
              operationId: listPets
              responses:
                '200':
                  description: A paged array of pets
          /pets/{petId}:
            get:
              operationId: showPetById
              parameters:
                - name: petId
                  in: path
                  required: true
                  schema:
                    type: string
              responses:
                '200':
                  description: Expected response to a valid request
        """

    static let apkConf = """
        name: EmployeeServiceAPI
        basePath: /test
        version: "3.14"
        type: REST
        endpointConfigurations:
          production:
            - endpoint: http://backend:80/anything
        operations:
          - target: /employee
            verb: GET
          - target: /employee/{employeeId}
            verb: PUT
        """

    static let apkConfWrongType = """
        name: EmployeeServiceAPI
        basePath: /test
        version: "3.14"
        type: REST
        endpointConfigurations:
          production:
            - endpoint: http://backend:80/anything
        operations:
          - target: /employee
            verb: GET
        corsConfiguration:
          corsConfigurationEnabled: "true"
        """
}

/// A TCP server on 127.0.0.1:0 that accepts connections and never answers.
struct SilentServer {
    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    static func start() async throws -> SilentServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { _ in MultiThreadedEventLoopGroup.singleton.any().makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        return SilentServer(channel: channel)
    }

    func stop() async throws { try await channel.close() }
}

/// A live Hummingbird server on port 0 serving definitions for URL-fetch tests.
enum DefinitionServer {
    static func withServer<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
        let router = Router()
        router.get("petstore.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: Samples.petstore)))
        }
        router.get("big") { _, _ in
            Response(status: .ok, body: .init(byteBuffer: ByteBuffer(repeating: 0x20, count: 64 * 1024)))
        }
        router.get("redirect/:n") { _, context -> Response in
            let n = context.parameters.get("n", as: Int.self) ?? 0
            let target = n <= 1 ? "/petstore.yaml" : "/redirect/\(n - 1)"
            return Response(status: .found, headers: [.location: target])
        }
        router.get("to-file") { _, _ in
            Response(status: .found, headers: [.location: "file:///etc/passwd"])
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: TestConfig.logger)
        return try await app.test(.live) { client in
            try await body(client.port ?? 0)
        }
    }
}

/// Lists a zip archive's entry names with Python's `zipfile` (an independent reader), after `testzip()`.
enum PythonZip {
    static var python: String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/usr/local/bin").split(separator: ":")
            .map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func names(_ archive: [UInt8]) throws -> [String]? {
        guard let python else { return nil }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("apk-bundle-\(UUID().uuidString).zip")
        try Data(archive).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            "-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print('\\n'.join(z.namelist()))",
            url.path,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return [] }
        return String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
