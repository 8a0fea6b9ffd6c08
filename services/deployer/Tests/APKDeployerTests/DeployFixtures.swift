import Hummingbird
import HummingbirdTesting
import NIOCore

/// A `multipart/form-data` body built by hand, as curl would send it.
struct MultipartBody {
    struct Part {
        var name: String
        var filename: String?
        var bytes: [UInt8]
    }

    var boundary = "----APKDeployerBoundary9f8e7d"
    var parts: [Part] = []

    mutating func file(_ name: String, filename: String, _ text: String) {
        parts.append(Part(name: name, filename: filename, bytes: Array(text.utf8)))
    }

    var headers: HTTPFields { [.contentType: "multipart/form-data; boundary=\(boundary)"] }

    var buffer: ByteBuffer {
        var out: [UInt8] = []
        for part in parts {
            out += Array("--\(boundary)\r\n".utf8)
            var disposition = "Content-Disposition: form-data; name=\"\(part.name)\""
            if let filename = part.filename { disposition += "; filename=\"\(filename)\"" }
            out += Array("\(disposition)\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
            out += part.bytes
            out += Array("\r\n".utf8)
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return ByteBuffer(bytes: out)
    }

    /// A deploy body with both parts.
    static func deploy(conf: String = Samples.apkConf(), definition: String = Samples.petstore) -> MultipartBody {
        var body = MultipartBody()
        body.file("apkConfiguration", filename: "api.apk-conf", conf)
        body.file("definitionFile", filename: "petstore.yaml", definition)
        return body
    }
}

enum Samples {
    static let petstore = """
        openapi: 3.0.1
        info:
          title: Swagger Petstore
          version: 1.0.0
        paths:
          /employee:
            get:
              responses:
                '200':
                  description: ok
          /employee/{employeeId}:
            put:
              parameters:
                - name: employeeId
                  in: path
                  required: true
                  schema:
                    type: string
              responses:
                '200':
                  description: ok
        """

    static func apkConf(name: String = "EmployeeServiceAPI", basePath: String = "/test", version: String = "3.14") -> String {
        """
        name: \(name)
        basePath: \(basePath)
        version: "\(version)"
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
    }

    /// Two schema violations: a string where a boolean belongs, and an unknown verb type.
    static let invalidApkConf = """
        name: EmployeeServiceAPI
        basePath: /test
        version: "3.14"
        type: REST
        defaultVersion: "yes"
        endpointConfigurations:
          production:
            - endpoint: http://backend:80/anything
        operations:
          - target: /employee
            verb: GET
            secured: "no"
        """

    static let graphQLSchema = """
        type Query {
          employee(id: ID!): Employee
        }
        type Employee { id: ID! name: String }
        """
}

/// Deploy-API paths under both prefixes.
enum Paths {
    static let prefixes = ["/api/deployer/apis", "/api/deployer/1.3.0/apis"]
    static let deploy = "/api/deployer/apis/deploy"
    static let list = "/api/deployer/apis"
    static func undeploy(_ id: String) -> String { "/api/deployer/apis/undeploy?apiId=\(id)" }
    static let runtimeList = "/api/runtime/apis"
    static func generateKey(_ id: String) -> String { "/api/runtime/apis/\(id)/generate-key" }
}

extension TestClientProtocol {
    /// POSTs a deploy with `token`.
    func deploy(_ body: MultipartBody = .deploy(), token: String?, prefix: String = Paths.prefixes[0]) async throws -> TestResponse {
        var headers = body.headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: "\(prefix)/deploy", method: .post, headers: headers, body: body.buffer)
    }

    func get(_ uri: String, token: String?) async throws -> TestResponse {
        try await execute(uri: uri, method: .get, headers: token.map { [.authorization: "Bearer \($0)"] } ?? [:])
    }

    func post(_ uri: String, token: String?) async throws -> TestResponse {
        try await execute(uri: uri, method: .post, headers: token.map { [.authorization: "Bearer \($0)"] } ?? [:])
    }
}
