import APKConfig
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import APKConversion

/// `POST …/apis/generate-configuration` (contract §2.1) under both path aliases.
@Suite struct GenerateConfigurationTests {
    private func post(_ body: MultipartBody, prefix: String = TestConfig.paths[0]) async throws -> TestResponse {
        try await TestConfig.app().test(.router) { client in
            try await client.execute(
                uri: "\(prefix)/generate-configuration", method: .post, headers: body.headers, body: body.buffer)
        }
    }

    /// Needs `OpenAPIConverter` (APKModel, being written).
    @Test(arguments: TestConfig.paths)
    func uploadedDefinitionGivesYAML(prefix: String) async throws {
        var body = MultipartBody()
        body.file("definition", filename: "petstore.yaml", Samples.petstore)
        let response = try await post(body, prefix: prefix)
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        #expect(response.headers[.contentType] == "application/yaml")
        #expect(String(buffer: response.body).hasPrefix("---"))
    }

    /// Needs `OpenAPIConverter` (APKModel, being written).
    @Test(arguments: ["rest", "REST", "Rest"])
    func apiTypeIsCaseInsensitive(apiType: String) async throws {
        var body = MultipartBody()
        body.file("definition", filename: "petstore.yaml", Samples.petstore)
        body.text("apiType", apiType)
        let response = try await post(body)
        #expect(response.status == .ok, "\(String(buffer: response.body))")
    }

    @Test(arguments: TestConfig.paths)
    func bothDefinitionAndURL(prefix: String) async throws {
        var body = MultipartBody()
        body.file("definition", filename: "petstore.yaml", Samples.petstore)
        body.text("url", "http://127.0.0.1:1/petstore.yaml")
        let response = try await post(body, prefix: prefix)
        #expect(response.status == .badRequest)
        #expect(String(buffer: response.body) == #"{"code":90091,"message":"Specify either definition or url"}"#)
    }

    @Test func neitherDefinitionNorURL() async throws {
        var body = MultipartBody()
        body.text("apiType", "REST")
        body.text("url", "   ")
        let response = try await post(body)
        #expect(response.status == .badRequest)
        #expect(String(buffer: response.body) == #"{"code":90091,"message":"Specify either definition or url"}"#)
    }

    @Test(arguments: ["SOAP", "graph ql", "1"])
    func invalidAPIType(apiType: String) async throws {
        var body = MultipartBody()
        body.file("definition", filename: "petstore.yaml", Samples.petstore)
        body.text("apiType", apiType)
        let response = try await post(body)
        #expect(response.status == .badRequest)
        #expect(String(buffer: response.body) == #"{"code":90091,"message":"Invalid API Type"}"#)
    }

    @Test(arguments: ["ftp://example.com/a.yaml", "file:///etc/passwd", "not a url", "/relative/path", "http://"])
    func nonHTTPURLsAre909044(url: String) async throws {
        var body = MultipartBody()
        body.text("url", url)
        let response = try await post(body)
        #expect(response.status.code == 406)
        #expect(String(buffer: response.body).hasPrefix(#"{"code":909044,"message":"Invalid url provided for openapi definition""#))
    }

    /// Needs `OpenAPIConverter` to reject what is not OpenAPI (contract: 400 90091 or a 4xx/5xx APK error).
    @Test func garbageDefinitionIsAnAPKError() async throws {
        var body = MultipartBody()
        body.file("definition", filename: "junk.bin", bytes: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let response = try await post(body)
        #expect(response.status != .ok)
        #expect(response.status != .internalServerError || String(buffer: response.body).contains("\"code\":909022"))
        #expect(response.headers[.contentType] == "application/json")
    }
}
