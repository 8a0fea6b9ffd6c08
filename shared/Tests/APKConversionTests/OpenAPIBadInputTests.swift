import APKModel
import Foundation
import Testing
import APKConversion

/// Definitions that cannot be converted: each is a 400 / 90091 (413 when too large), never a crash or a hang.
@Suite struct OpenAPIBadInputTests {
    static let minimalPaths = #"{"/a": {"get": {"responses": {"200": {"description": "OK"}}}}}"#

    static let cases: [(name: String, bytes: [UInt8])] = [
        ("empty file", []),
        ("only whitespace", Array(" \n\t \n".utf8)),
        ("malformed JSON", Array(#"{"openapi": "3.0.3", "info": {"title": "t""#.utf8)),
        ("malformed YAML", Array("openapi: 3.0.3\ninfo: [title: t\n  version: 1\n".utf8)),
        ("binary garbage", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0xFF, 0xFE, 0x01]),
        ("invalid UTF-8", [0x6F, 0x70, 0x65, 0x6E, 0xC3, 0x28, 0x3A, 0x20, 0xFF]),
        ("JSON array", Array(#"[{"openapi": "3.0.3"}]"#.utf8)),
        ("JSON string", Array(#""openapi""#.utf8)),
        ("YAML scalar", Array("just some text".utf8)),
        ("no version field", Array(#"{"info": {"title": "t", "version": "1"}, "paths": {}}"#.utf8)),
        ("openapi 4.0.0", Array(#"{"openapi": "4.0.0", "info": {"title": "t", "version": "1"}, "paths": \#(minimalPaths)}"#.utf8)),
        ("openapi 3.2.0", Array(#"{"openapi": "3.2.0", "info": {"title": "t", "version": "1"}, "paths": \#(minimalPaths)}"#.utf8)),
        ("openapi as a number", Array("openapi: 3.0\ninfo: {title: t, version: '1'}\npaths: {}\n".utf8)),
        ("swagger 1.2", Array(#"{"swagger": "1.2", "info": {"title": "t", "version": "1"}, "paths": {}}"#.utf8)),
        ("3.0 without paths", Array(#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}}"#.utf8)),
        ("no info", Array(#"{"openapi": "3.0.3", "paths": \#(minimalPaths)}"#.utf8)),
        ("info title is a list", Array(#"{"openapi": "3.0.3", "info": {"title": [], "version": "1"}, "paths": \#(minimalPaths)}"#.utf8)),
        ("paths is a list", Array(#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": []}"#.utf8)),
        ("operation is a string", Array(#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": "x"}}}"#.utf8)),
        ("missing responses", Array(#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {}}}}"#.utf8)),
        ("bad schema", Array(#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": \#(minimalPaths), "components": {"schemas": {"A": {"type": 7}}}}"#.utf8)),
        ("external path item ref", Array(#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"$ref": "other.yaml#/a"}}}"#.utf8)),
        ("swagger paths is a string", Array("swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: nope\n".utf8)),
        ("swagger unresolvable parameter", Array("swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {/a: {get: {parameters: [{$ref: '#/parameters/nope'}], responses: {'200': {description: OK}}}}}\n".utf8)),
        ("swagger unknown security type", Array("swagger: '2.0'\ninfo: {title: t, version: '1'}\nsecurityDefinitions: {s: {type: magic}}\npaths: {/a: {get: {responses: {'200': {description: OK}}}}}\n".utf8)),
        ("duplicate keys", Array("openapi: 3.0.3\nopenapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n".utf8)),
        ("billion laughs", Array(billionLaughs.utf8)),
        ("deep nesting", Array((String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)).utf8)),
    ]

    static let billionLaughs = """
        openapi: 3.0.3
        a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
        g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
        h: [*g,*g,*g,*g,*g,*g,*g,*g,*g]
        """

    @Test(arguments: cases.map(\.name))
    func isAnInvalidDefinition(_ name: String) throws {
        let bytes = try #require(Self.cases.first { $0.name == name }?.bytes)
        let error = #expect(throws: APKError.self) { try OpenAPIConverter().apkConf(fromDefinition: Data(bytes)) }
        #expect(error?.code == 90091, "\(name): \(String(describing: error))")
        #expect(error?.status == 400)
        let problems = try #require(error?.definitionProblems)
        #expect(!problems.isEmpty)
        #expect(problems.allSatisfy { $0.message.count <= 300 && $0.description.count <= 1_000 })
    }

    /// Unreadable definitions are refused when stored with a deployment too (a document without operations is
    /// fine there: the apk-conf decides the operations).
    @Test(arguments: ["empty file", "binary garbage", "JSON array", "openapi 4.0.0", "missing responses", "bad schema"])
    func isRefusedForTheBundle(_ name: String) throws {
        let bytes = try #require(Self.cases.first { $0.name == name }?.bytes)
        var conf = ApkConf(name: "t", basePath: "/t", version: "1")
        conf.operations = [ApkConf.Operation(target: "/a", verb: "GET")]
        let error = #expect(throws: APKError.self) { try OpenAPIConverter().definitionForBundle(Data(bytes), conf: conf) }
        #expect(error?.code == 90091)
    }

    @Test func tooLargeIsPayloadTooLarge() {
        let converter = OpenAPIConverter(parser: DocumentParser(maxBytes: 64))
        let text = #"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": \#(Self.minimalPaths)}"#
        let error = #expect(throws: APKError.self) { try converter.apkConf(fromDefinition: Data(text.utf8)) }
        #expect(error?.code == 909060)
        #expect(error?.status == 413)
    }

    @Test func problemsNameWhereAndAreCollected() {
        let text = """
            {"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
             "paths": {"/a": {"get": {}}, "/b": {"get": {"responses": {"200": {"description": "OK"}}}}, "/c": {"post": 5}}}
            """
        let error = #expect(throws: APKError.self) { try OpenAPIConverter().apkConf(fromDefinition: Data(text.utf8)) }
        let messages = error?.definitionProblems?.map(\.message) ?? []
        #expect(messages.count == 2, "\(messages)")
        #expect(messages.first?.hasPrefix("paths['/a']") == true, "\(messages)")
        #expect(messages.last?.hasPrefix("paths['/c']") == true, "\(messages)")
    }

    @Test func hugeTextIsNeverEchoed() {
        let version = String(repeating: "9", count: 100_000)
        let text = #"{"openapi": "3.0.\#(version)x", "info": {"title": "t", "version": "1"}, "paths": {}}"#
        let error = #expect(throws: APKError.self) { try OpenAPIConverter().apkConf(fromDefinition: Data(text.utf8)) }
        #expect((error?.detail.count ?? 0) < 1_200)
    }

    @Test func wideObjectsAreReadInLinearTime() throws {
        let properties = (0..<10_000).map { #""p\#($0)": {"type": "string"}"# }.joined(separator: ",")
        let text = """
            {"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
             "paths": {"/a": {"get": {"responses": {"200": {"description": "OK"}}}}},
             "components": {"schemas": {"Wide": {"type": "object", "properties": {\(properties)}}}}}
            """
        let clock = ContinuousClock()
        let elapsed = try clock.measure { _ = try OpenAPIConverter().apkConf(fromDefinition: Data(text.utf8)) }
        #expect(elapsed < OpenAPIScaleTests.budget, "\(elapsed)")
    }
}
