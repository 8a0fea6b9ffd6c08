import APKModel
import Foundation
import Testing
import APKConversion

/// Large definitions convert in linear time.
@Suite struct OpenAPIScaleTests {
    #if DEBUG
        static let budget = Duration.seconds(30)  // bounded, not a benchmark: unoptimised build, Swift Testing hooks, shared 2-core machine
    #else
        static let budget = Duration.seconds(1)
    #endif

    /// An OpenAPI 3.0 JSON document with `paths × 4` operations, half of them with scopes.
    static func document(paths: Int) -> Data {
        let items = (0..<paths).map { i in
            let op = #"{"responses": {"200": {"description": "OK"}}}"#
            let secured = #"{"security": [{"default": ["s\#(i % 7)"]}], "responses": {"200": {"description": "OK"}}}"#
            return #""/r\#(i)/{id}": {"get": \#(op), "put": \#(secured), "post": \#(op), "delete": \#(secured)}"#
        }
        let scopes = (0..<7).map { #""s\#($0)": """# }.joined(separator: ",")
        return Data(
            """
            {"openapi": "3.0.3", "info": {"title": "Scale", "version": "1"},
             "servers": [{"url": "https://scale.example.com"}],
             "paths": {\(items.joined(separator: ",\n"))},
             "components": {"securitySchemes": {"default": {"type": "oauth2",
               "flows": {"implicit": {"authorizationUrl": "https://a", "scopes": {\(scopes)}}}}}}}
            """.utf8)
    }

    @Test func fiveThousandOperationsInOrder() throws {
        let data = Self.document(paths: 1_250)
        let converter = OpenAPIConverter()
        let clock = ContinuousClock()
        var conf: ApkConf?
        let elapsed = try clock.measure { conf = try converter.apkConf(fromDefinition: data) }
        let operations = try #require(conf?.operations)
        #expect(operations.count == 5_000)
        let expected = (0..<1_250).flatMap { i in ["GET", "PUT", "POST", "DELETE"].map { "\($0) /r\(i)/{id}" } }
        #expect(operations.map { "\($0.verb) \($0.target)" } == expected)
        #expect(operations[1].scopes == ["s0"] && operations[0].scopes == [])
        #expect(elapsed < Self.budget, "apk-conf took \(elapsed)")
        print("5,000 operations: apk-conf in \(elapsed)")
    }

    @Test func fiveThousandOperationsDefinition() throws {
        let data = Self.document(paths: 1_250)
        let converter = OpenAPIConverter()
        let conf = try converter.apkConf(fromDefinition: data)
        let clock = ContinuousClock()
        var definition = Data()
        let elapsed = try clock.measure { definition = try converter.definitionForBundle(data, conf: conf) }
        #expect(try converter.apkConf(fromDefinition: definition).operations.count == 5_000)
        #expect(elapsed < Self.budget * 2, "definition took \(elapsed)")
        print("5,000 operations: definition in \(elapsed)")
    }
}
