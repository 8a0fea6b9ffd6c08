import APKConfig
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import APKConversion

/// `POST …/apis/generate-k8s-resources` (contract §2.2) under both path aliases.
@Suite struct GenerateK8sResourcesTests {
    private func post(
        _ body: MultipartBody, query: String = "", prefix: String = TestConfig.paths[0], accept: String? = nil
    ) async throws -> TestResponse {
        var headers = body.headers
        if let accept { headers[.accept] = accept }
        let (fields, buffer) = (headers, body.buffer)
        return try await TestConfig.app().test(.router) { client in
            try await client.execute(
                uri: "\(prefix)/generate-k8s-resources\(query)", method: .post, headers: fields, body: buffer)
        }
    }

    private func validBody(conf: String = Samples.apkConf) -> MultipartBody {
        var body = MultipartBody()
        body.file("apkConfiguration", filename: "EmployeeService.apk-conf", conf)
        body.file("definitionFile", filename: "petstore.yaml", Samples.petstore)
        body.text("apiType", "REST")
        return body
    }

    /// Needs `CRBundleBuilder` (APKModel, being written).
    @Test(arguments: TestConfig.paths)
    func zipBundle(prefix: String) async throws {
        let response = try await post(validBody(), query: "?organization=acme", prefix: prefix)
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        #expect(response.headers[.contentType] == "application/zip")
        #expect(response.headers[.contentDisposition] == "attachment; filename=EmployeeServiceAPI-3.14.zip")
        if let names = try PythonZip.names(Array(response.body.readableBytesView)) {
            #expect(!names.isEmpty)
            #expect(names.allSatisfy { $0.hasSuffix(".yaml") })
            #expect(Set(names).count == names.count)
        }
    }

    /// Needs `CRBundleBuilder` (APKModel, being written).
    @Test func yamlStreamWhenAsked() async throws {
        let response = try await post(validBody(), accept: "application/yaml")
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        #expect(response.headers[.contentType] == "application/yaml")
        let text = String(buffer: response.body)
        #expect(text.hasPrefix("---"))
        #expect(text.contains("kind: API"))
    }

    @Test(arguments: ["apkConfiguration", "definitionFile"])
    func missingPartIs909018(missing: String) async throws {
        var body = validBody()
        body.parts.removeAll { $0.name == missing }
        let response = try await post(body)
        #expect(response.status.code == 406)
        let text = String(buffer: response.body)
        #expect(text.hasPrefix(#"{"code":909018,"message":"Invalid API request","description":"#))
        #expect(text.contains(missing))
    }

    @Test(arguments: ["Acme", "-acme", "acme-", "", "a_b", "a.b", String(repeating: "a", count: 64), "%E2%82%AC"])
    func invalidOrganization(organization: String) async throws {
        let response = try await post(validBody(), query: "?organization=\(organization)")
        #expect(response.status == .badRequest)
        let text = String(buffer: response.body)
        #expect(text.hasPrefix(#"{"code":909062,"message":"Invalid organization""#))
    }

    @Test func wrongTypeInApkConfIs909029WithPointer() async throws {
        let response = try await post(validBody(conf: Samples.apkConfWrongType))
        #expect(response.status == .badRequest)
        let text = String(buffer: response.body)
        #expect(text.hasPrefix(#"{"code":909029,"message":"Invalid apk-conf provided""#))
        #expect(text.contains(##""pointer":"#/corsConfiguration/corsConfigurationEnabled""##))
    }

    @Test(arguments: [
        "name: [unclosed", "{\"name\": ", "\t\u{0}\u{1}garbage: : :", "- just\n- a\n- list", "42",
    ])
    func malformedApkConfIs909029(conf: String) async throws {
        let response = try await post(validBody(conf: conf))
        #expect(response.status == .badRequest)
        #expect(String(buffer: response.body).hasPrefix(#"{"code":909029,"#))
    }

    @Test func binaryApkConfIs909029() async throws {
        var body = MultipartBody()
        body.file("apkConfiguration", filename: "x.apk-conf", bytes: [0xFF, 0xFE, 0x00, 0x81, 0xC3, 0x28] + Array(repeating: 0xAA, count: 500))
        body.file("definitionFile", filename: "petstore.yaml", Samples.petstore)
        let response = try await post(body)
        #expect(response.status == .badRequest)
        #expect(String(buffer: response.body).hasPrefix(#"{"code":909029,"#))
    }

    @Test func noOperationsIs909021() async throws {
        let conf = """
            name: X
            basePath: /x
            version: "1"
            type: REST
            endpointConfigurations:
              production:
                - endpoint: http://backend
            operations: []
            """
        let response = try await post(validBody(conf: conf))
        #expect(response.status.code == 406)
        #expect(String(buffer: response.body).hasPrefix(#"{"code":909021,"#))
    }
}
