import APKModel
import APKTestSupport
import Foundation
import Testing
import APKConversion

/// The definition stored with a deployment (§5.2): exactly the conf's operations, conf scopes, OpenAPI 3 JSON.
@Suite struct OpenAPIDefinitionTests {
    let converter = OpenAPIConverter()

    @Test(arguments: OpenAPIConverterTests.fixtures)
    func fixtureDefinitionMatchesGoldenAndReadsBack(_ fixture: String) throws {
        let data = try Fixtures.data("openapi/\(fixture)")
        let conf = try converter.apkConf(fromDefinition: data)
        let definition = try converter.definitionForBundle(data, conf: conf)
        let difference = try Golden.difference(
            String(decoding: definition, as: UTF8.self),
            goldenFile: "golden/definition/\(OpenAPIConverterTests.baseName(fixture)).json")
        #expect(difference == nil, "\(difference ?? "")")
        #expect(try converter.definitionForBundle(data, conf: conf) == definition)  // same input, same bytes
        #expect(try converter.apkConf(fromDefinition: definition) == conf)  // OpenAPIKit reads it back
    }

    static func employeeConf() -> ApkConf {
        var conf = ApkConf(name: "EmployeeServiceAPI", basePath: "/test", version: "3.14")
        conf.endpointConfigurations = EndpointConfigurations(
            production: [EndpointConfiguration(endpoint: .url("http://backend:80/anything"))])
        conf.operations = [
            ApkConf.Operation(target: "/employee", verb: "GET", scopes: ["employee:read"]),
            ApkConf.Operation(target: "/employee", verb: "POST"),
            ApkConf.Operation(target: "/employee/{employeeId}", verb: "PUT", scopes: ["employee:write", "employee:read"]),
            ApkConf.Operation(target: "/employee/{employeeId}", verb: "DELETE", secured: false),
            ApkConf.Operation(target: "/*", verb: "OPTIONS", secured: false),
        ]
        return conf
    }

    @Test func generatedWhenThereIsNoDefinition() throws {
        let conf = Self.employeeConf()
        let definition = try converter.definitionForBundle(nil, conf: conf)
        let difference = try Golden.difference(
            String(decoding: definition, as: UTF8.self), goldenFile: "golden/definition/generated-employee.json")
        #expect(difference == nil, "\(difference ?? "")")
        let back = try converter.apkConf(fromDefinition: definition)
        #expect(back.name == conf.name && back.version == conf.version)
        #expect(back.endpointConfigurations == conf.endpointConfigurations)
        #expect(back.operations.map { "\($0.verb) \($0.target)" } == conf.operations.map { "\($0.verb) \($0.target)" })
        // No scopes comes back as `scopes: []` (what generation writes) for an operation that had none.
        #expect(back.operations.map { $0.scopes ?? [] } == conf.operations.map { $0.scopes ?? [] })
    }

    @Test func generatedWithoutServersForServiceEndpoints() throws {
        var conf = Self.employeeConf()
        conf.endpointConfigurations = nil
        let document = try parse(try converter.definitionForBundle(nil, conf: conf))
        #expect(document["servers"] == nil)
        #expect(document["openapi"] == "3.0.3")
    }

    @Test func keepsOnlyTheConfOperationsAndAddsMissingOnes() throws {
        let data = try Fixtures.data("openapi/petstore-3.0.yaml")
        var conf = try converter.apkConf(fromDefinition: data)
        conf.operations = [
            ApkConf.Operation(target: "/pets", verb: "GET", scopes: ["read:pets", "pets:admin"]),
            ApkConf.Operation(target: "/pets/{petId}", verb: "DELETE", secured: false),
            ApkConf.Operation(target: "/pets/{petId}", verb: "POST"),
            ApkConf.Operation(target: "/pets/{petId}/photos/{photoId}", verb: "GET", scopes: ["read:pets"]),
        ]
        let document = try parse(try converter.definitionForBundle(data, conf: conf))
        let paths = try #require(document["paths"]?.objectValue)
        #expect(paths.keys == ["/pets", "/pets/{petId}", "/pets/{petId}/photos/{photoId}"])
        #expect(paths["/pets"]?.objectValue?.keys == ["get"])
        #expect(paths["/pets/{petId}"]?.objectValue?.keys == ["parameters", "delete", "post"])
        #expect(paths["/pets"]?["get"]?["operationId"] == "listPets")  // the author's operation is kept
        #expect(paths["/pets"]?["get"]?["security"] == [["default": ["read:pets", "pets:admin"]]])
        #expect(paths["/pets/{petId}"]?["delete"]?["security"] == [])
        // petId is declared on the path item, so the new POST declares no parameters of its own.
        #expect(paths["/pets/{petId}"]?["post"] == ["responses": ["200": ["description": "OK"]], "security": [["default": []]]])
        let photo = try #require(paths["/pets/{petId}/photos/{photoId}"]?["get"]?["parameters"]?.arrayValue)
        #expect(photo.map { $0["name"] } == ["petId", "photoId"])
        #expect(photo.allSatisfy { $0["in"] == "path" && $0["required"] == true })
        let scheme = document["components"]?["securitySchemes"]?["default"]
        #expect(scheme?["type"] == "oauth2")
        #expect(scheme?["flows"]?["implicit"]?["authorizationUrl"] == "https://test.com")
        #expect(scheme?["flows"]?["implicit"]?["scopes"] == ["read:pets": "read your pets", "pets:admin": ""])
        #expect(document["components"]?["securitySchemes"]?["petstore_auth"] != nil)  // the author's schemes stay
        #expect(document["components"]?["schemas"]?["Pet"] != nil)
        #expect(document["security"] == nil)
    }

    @Test func noDefaultSchemeWhenNothingIsSecured() throws {
        var conf = Self.employeeConf()
        conf.operations = conf.operations.map { var op = $0; op.secured = false; op.scopes = nil; return op }
        let document = try parse(try converter.definitionForBundle(nil, conf: conf))
        #expect(document["components"] == nil)
        #expect(document["paths"]?["/employee"]?["get"]?["security"] == [])
    }

    @Test func swaggerBecomesOpenAPI3() throws {
        let data = try Fixtures.data("openapi/library-swagger-2.0.yaml")
        let conf = try converter.apkConf(fromDefinition: data)
        let document = try parse(try converter.definitionForBundle(data, conf: conf))
        #expect(document["openapi"] == "3.0.3")
        #expect(document["swagger"] == nil)
        #expect(document["servers"] == [["url": "https://library.example.com:8443/library/v2"], ["url": "http://library.example.com:8443/library/v2"]])
        let post = document["paths"]?["/books"]?["post"]
        #expect(post?["requestBody"]?["content"]?["application/json"]?["schema"] == ["$ref": "#/components/schemas/Book"])
        let cover = document["paths"]?["/books/{bookId}/cover"]?["put"]?["requestBody"]?["content"]?["multipart/form-data"]
        #expect(cover?["schema"]?["properties"]?["image"] == ["type": "string", "format": "binary"])
        #expect(document["components"]?["schemas"]?["Loan"]?["discriminator"] == ["propertyName": "kind"])
        let flows = document["components"]?["securitySchemes"]?["library_auth"]?["flows"]?.objectValue
        #expect(flows?.keys == ["authorizationCode"])
    }

    private func parse(_ data: Data) throws -> JSONValue { try DocumentParser().parse(data) }
}
