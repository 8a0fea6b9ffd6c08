import APKModel
import Foundation
import Testing
import APKConversion

@Suite("PathTemplate: REST targets → HTTPRoute match regex and rewrite (contract §5.3)")
struct PathTemplateTests {
    /// Contract §5.3, plus literal escaping.
    static let table: [(target: String, regex: String, rewrite: String)] = [
        ("/*", "(.*)", "\\1"),
        ("/", "/", "/"),
        ("/employee", "/employee", "/employee"),
        ("/employee/{id}", "/employee/(.*)", "/employee/\\1"),
        ("/a/{x}/b/{y}", "/a/(.*)/b/(.*)", "/a/\\1/b/\\2"),
        ("/pets/*", "/pets(.*)", "/pets\\1"),
        ("/v1.0/data", "/v1\\.0/data", "/v1.0/data"),
        ("/files/{name}/*", "/files/(.*)(.*)", "/files/\\1\\2"),
        ("/a+b/$x", "/a\\+b/\\$x", "/a+b/$x"),
    ]

    @Test(arguments: table)
    func regexAndRewrite(_ target: String, regex: String, rewrite: String) {
        #expect(PathTemplate.problem(in: target) == nil)
        #expect(PathTemplate.matchRegex(for: target) == regex)
        #expect(PathTemplate.rewrite(for: target) == rewrite)
    }

    private func fullMatch(_ regex: String, _ path: String) throws -> [String]? {
        let expression = try NSRegularExpression(pattern: "^\(regex)$")
        let range = NSRange(path.startIndex..., in: path)
        guard let match = expression.firstMatch(in: path, range: range) else { return nil }
        return (1..<match.numberOfRanges).map { index in
            Range(match.range(at: index), in: path).map { String(path[$0]) } ?? ""
        }
    }

    @Test(arguments: [
        ("/employee/{id}", "/employee/42", ["42"] as [String]?),
        ("/a/{x}/b/{y}", "/a/1/b/2", ["1", "2"]),
        ("/pets/*", "/pets/dogs/rex", ["/dogs/rex"]),
        ("/*", "/anything/at/all", ["/anything/at/all"]),
        ("/employee", "/employee", []),
        ("/employee", "/employees", nil),
        ("/v1.0/data", "/v1.0/data", []),
        ("/v1.0/data", "/v1x0/data", nil),
    ])
    func regexMatchesRequestPaths(_ target: String, path: String, captures: [String]?) throws {
        #expect(try fullMatch(PathTemplate.matchRegex(for: target), path) == captures)
    }

    @Test(arguments: [
        ("employee", "target [employee] must start with /"),
        ("", "target [] must start with /"),
        ("/a/*/b", "target [/a/*/b] may use * only as its last segment"),
        ("/a/b*", "target [/a/b*] may use * only as a whole segment"),
        ("/a/{}/b", "target [/a/{}/b] has a malformed path parameter [{}]"),
        ("/a/{x", "target [/a/{x] has a malformed path parameter [{x]"),
        ("/a/x}", "target [/a/x}] has a malformed path parameter [x}]"),
        ("/a/pre{x}", "target [/a/pre{x}] has a malformed path parameter [pre{x}]"),
        ("/a/{x y}", "target [/a/{x y}] has a malformed path parameter [{x y}]"),
        ("/a//b", "target [/a//b] contains an empty path segment"),
    ])
    func problems(_ target: String, problem: String) {
        #expect(PathTemplate.problem(in: target) == problem)
    }

    @Test func parameterNamesInOrder() {
        #expect(PathTemplate.parameters(in: "/a/{x}/b/{y_1}/*") == ["x", "y_1"])
        #expect(PathTemplate.parameters(in: "/employee") == [])
    }

    @Test func escapeCoversRegexMetacharacters() {
        #expect(PathTemplate.escape(#"a.b+c*d?e(f)g|h[i]j{k}l^m$n\o"#) == #"a\.b\+c\*d\?e\(f\)g\|h\[i\]j\{k\}l\^m\$n\\o"#)
        #expect(PathTemplate.escape("plain-path_~") == "plain-path_~")
    }
}
