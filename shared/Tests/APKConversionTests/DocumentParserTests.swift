import APKModel
import Foundation
import Testing
import APKConversion

/// SplitMix64: a seeded generator so "random" inputs are the same on every run.
private struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("DocumentParser: hostile and odd input is a clear error, never a crash or a hang", .timeLimit(.minutes(1)))
struct DocumentParserTests {
    let parser = DocumentParser()

    private func failure(_ text: String, parser: DocumentParser = DocumentParser()) -> DocumentParser.Failure? {
        failure(Data(text.utf8), parser: parser)
    }

    private func failure(_ data: Data, parser: DocumentParser = DocumentParser()) -> DocumentParser.Failure? {
        do {
            _ = try parser.parse(data)
            return nil
        } catch {
            return error
        }
    }

    private func isMalformed(_ failure: DocumentParser.Failure?, mentioning text: String) -> Bool {
        if case .malformed(let reason) = failure { return reason.contains(text) }
        return false
    }

    // MARK: empty and non-text input

    @Test func emptyInput() {
        #expect(failure(Data()) == .empty)
    }

    @Test func whitespaceOnly() {
        #expect(failure(" \n\t\r\n  ") == .empty)
    }

    @Test func commentOnlyYAMLIsEmpty() {
        #expect(failure("# nothing here\n") == .empty)
    }

    @Test(arguments: [1, 2, 3, 42, 1234])
    func randomBinaryGarbage(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for length in [1, 7, 64, 1024] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0x80...0xFF, using: &generator) }
            #expect(failure(Data(bytes)) == .notText, "seed \(seed), \(length) bytes")
        }
        for length in [64, 1024, 65_536] {
            let anyBytes = (0..<length).map { _ in UInt8.random(in: 0...0xFF, using: &generator) }
            #expect(failure(Data(anyBytes)) != nil, "seed \(seed), \(length) bytes")
        }
    }

    @Test(arguments: [7, 99])
    func randomPunctuationNeverCrashes(seed: UInt64) {
        // Characters that drive the YAML and JSON grammars; any outcome but a crash or hang is fine.
        let alphabet = Array("{}[]:,-?\"'&*!|>#%@` \n\ta1.~")
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<300 {
            let length = Int.random(in: 1...80, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator) ?? " " })
            _ = failure(text)
        }
    }

    @Test(arguments: [Data("a: 1\u{0}".utf8), Data("{\"a\": \"x\u{0}\"}".utf8), Data([0x00]), Data([0x20, 0x00, 0x20])])
    func bytesWithNUL(_ data: Data) {
        #expect(failure(data) == .notText)
    }

    @Test(arguments: [[0xFF, 0xFE, 0x41], [0x61, 0x3A, 0x20, 0xC3], [0x61, 0x3A, 0x20, 0xED, 0xA0, 0x80], [0xC0, 0xAF]] as [[UInt8]])
    func invalidUTF8InYAML(_ bytes: [UInt8]) {
        #expect(failure(Data(bytes)) == .notText)
    }

    @Test func invalidUTF8InAJSONString() {
        let result = failure(Data([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x22, 0x7D]))  // {"a":"\xC3"}
        #expect(result == .notText || isMalformed(result, mentioning: "UTF-8"), "\(String(describing: result))")
    }

    // MARK: malformed JSON

    @Test(arguments: [
        ("{\"a\": \"abc}", "unterminated string"),
        ("{\"a\": \"\\q\"}", "invalid escape"),
        ("{\"a\": \"\\u12G4\"}", "invalid \\u escape"),
        ("{\"a\": \"\\ud800\"}", "unpaired surrogate"),
        ("{\"a\": \"\\udc00\"}", "unpaired surrogate"),
        ("{\"a\": \"\\ud800\\u0041\"}", "unpaired surrogate"),
        ("{\"a\": 1, \"a\": 2}", "duplicate key \"a\""),
        ("{\"a\" 1}", "expected ':'"),
        ("[1, 2", "unexpected end of input"),
    ])
    func malformedJSON(_ text: String, reason: String) {
        let result = failure(text)
        #expect(isMalformed(result, mentioning: reason), "\(text) → \(String(describing: result))")
    }

    @Test(arguments: ["{\"a\": 1,}", "[1, 2,]", "{\"a\": [1,],}"])
    func trailingCommaIsNotStrictJSON(_ text: String) throws {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8)) }
        // DocumentParser reads `{`/`[` documents that are not strict JSON as YAML flow collections, where a trailing
        // comma is allowed; the result must be the same document as without the comma.
        let withoutComma = text.replacingOccurrences(of: ",}", with: "}").replacingOccurrences(of: ",]", with: "]")
        #expect(try parser.parse(Data(text.utf8)) == (try parser.parse(Data(withoutComma.utf8))))
    }

    @Test(arguments: [
        ("{\"a\": 01}", "expected ',' or '}'"), ("{\"a\": \"tab\there\"}", "control character in string"),
        ("[1.]", "invalid number"), ("[-]", "invalid number"), ("[1e999]", "number out of range"), ("[tru]", "invalid literal"),
        ("{\"a\": 1} x", "unexpected data after the document"),
    ])
    func strictJSONParser(_ text: String, reason: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8)) }
        do {
            _ = try JSONParser.parse(Array(text.utf8))
        } catch {
            #expect(error.reason == reason, "\(text)")
        }
    }

    @Test func jsonErrorsSayWhere() {
        #expect(failure("{\"a\": [1, 2, }") == .malformed("unexpected character at byte 13"))
    }

    // MARK: malformed YAML

    @Test(arguments: [
        ("a:\n  b: 1\n c: 2\n", "line 3"),
        ("a: [1, 2\n", "flow sequence"),
        ("a: {b: 1\n", "flow mapping"),
        ("a: 1\n---\nb: 2\n", "single document"),
        ("a: *undefined\n", "undefined alias"),
        ("? [a, b]\n: 1\n", "mapping keys must be scalars"),
        ("a: \"unterminated\n", "line"),
        ("\ta: 1\n", "line 1"),
    ])
    func malformedYAML(_ text: String, reason: String) {
        let result = failure(text)
        #expect(isMalformed(result, mentioning: reason), "\(text.debugDescription) → \(String(describing: result))")
    }

    @Test
    func duplicateYAMLKeyIsNamed() {
        let result = failure("name: a\nbasePath: /x\nname: b\n")
        #expect(isMalformed(result, mentioning: "duplicate key \"name\""), "\(String(describing: result))")
    }

    @Test
    func yamlReaderErrorSaysWhy() {
        let result = failure("name: a\u{1}b\n")
        #expect(isMalformed(result, mentioning: "control characters"), "\(String(describing: result))")
    }

    // MARK: bounds

    static let billionLaughs = """
        a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
        g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
        h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
        i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
        """

    @Test func billionLaughsIsTooComplexAndQuick() {
        let start = ContinuousClock.now
        #expect(failure(Self.billionLaughs) == .tooComplex("more than 2000000 values after alias expansion"))
        #expect(ContinuousClock.now - start < .seconds(30))  // bounded (an expansion would take minutes or OOM)
        let strict = DocumentParser(maxValues: 1000)
        #expect(failure(Self.billionLaughs, parser: strict) == .tooComplex("more than 1000 values after alias expansion"))
    }

    @Test func aliasesWithinTheBudgetExpand() throws {
        let value = try parser.parse(Data("base: &b {x: 1}\nfirst: *b\nsecond: *b\n".utf8))
        #expect(value["first"] == ["x": 1])
        #expect(value["second"] == ["x": 1])
    }

    @Test(arguments: [
        String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),
        String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000),
        String(repeating: "[", count: 10_000),
    ])
    func deepJSON(_ text: String) {
        let result = failure(text)
        #expect(isMalformed(result, mentioning: "nesting deeper than 128 levels") || result == .tooComplex("nesting deeper than 128 levels"))
    }

    @Test(arguments: [
        String(repeating: "- ", count: 10_000) + "x\n",
        "root: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "\n",
        "root: " + String(repeating: "{a: ", count: 10_000) + "1" + String(repeating: "}", count: 10_000) + "\n",
    ])
    func deepYAML(_ text: String) {
        let result = failure(text)
        #expect(result != nil)
        if case .tooComplex = result { return }
        #expect(isMalformed(result, mentioning: "nest"), "\(String(describing: result))")
    }

    @Test func yamlDeeperThanMaxDepthIsTooComplex() {
        let text = "root: " + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "\n"
        #expect(failure(text) == .tooComplex("nesting deeper than 128 levels"))
        let shallow = DocumentParser(maxDepth: 3)
        #expect(failure("a: {b: {c: {d: 1}}}", parser: shallow) == .tooComplex("nesting deeper than 3 levels"))
        #expect(failure("a: {b: {c: 1}}", parser: shallow) == nil)
    }

    @Test func overMaxBytesIsTooLarge() {
        let small = DocumentParser(maxBytes: 16)
        #expect(failure("name: 0123456789", parser: small) == nil, "exactly 16 bytes")
        #expect(failure("name: 01234567890", parser: small) == .tooLarge(limit: 16))
        #expect(failure(Data(repeating: 0x20, count: 17), parser: small) == .tooLarge(limit: 16))
    }

    // MARK: values

    @Test func jsonKeyOrderIsKept() throws {
        let value = try parser.parse(Data(#"{"zeta": 1, "alpha": {"b": 2, "a": 1}, "mid": [3]}"#.utf8))
        #expect(value.objectValue?.keys == ["zeta", "alpha", "mid"])
        #expect(value["alpha"]?.objectValue?.keys == ["b", "a"])
    }

    @Test func yamlKeyOrderIsKept() throws {
        let value = try parser.parse(Data("zeta: 1\nalpha:\n  b: 2\n  a: 1\nmid: [3]\n".utf8))
        #expect(value.objectValue?.keys == ["zeta", "alpha", "mid"])
        #expect(value["alpha"]?.objectValue?.keys == ["b", "a"])
    }

    @Test(arguments: [
        ("yes", .string("yes")), ("no", .string("no")), ("on", .string("on")), ("y", .string("y")),
        ("true", .bool(true)), ("False", .bool(false)), ("1.0", .double(1.0)), ("\"1.0\"", .string("1.0")),
        ("'true'", .string("true")), ("2024-01-01", .string("2024-01-01")), ("12:30", .string("12:30")),
        ("~", .null), ("null", .null), ("", .null), ("42", .int(42)), ("-7", .int(-7)), ("0x1F", .int(31)),
        ("1e3", .double(1000)), (".inf", .string(".inf")), ("3.14", .double(3.14)), ("v1", .string("v1")),
    ] as [(String, JSONValue)])
    func yamlScalars(_ scalar: String, expected: JSONValue) throws {
        #expect(try parser.parse(Data("value: \(scalar)\n".utf8)) == ["value": expected])
    }

    @Test
    func explicitStringTagIsRespected() throws {
        #expect(try parser.parse(Data("version: !!str 3.14\nport: !!str 80\n".utf8)) == ["version": "3.14", "port": "80"])
    }

    @Test func jsonWithTabIndentation() throws {
        let value = try parser.parse(Data("{\n\t\"a\":\t1,\n\t\"b\": [\n\t\ttrue\n\t]\n}\n".utf8))
        #expect(value == ["a": 1, "b": [true]])
    }

    @Test(arguments: ["{\"a\": 1}", "a: 1\n"])
    func utf8ByteOrderMarkIsAccepted(_ text: String) throws {
        #expect(try parser.parse(Data(([0xEF, 0xBB, 0xBF] as [UInt8]) + Array(text.utf8))) == ["a": 1])
    }

    @Test func unicodeIsKept() throws {
        #expect(try parser.parse(Data("name: Ünïcødé 日本 😀\n".utf8)) == ["name": "Ünïcødé 日本 😀"])
        #expect(try parser.parse(Data(#"{"name": "\u00dc\ud83d\ude00"}"#.utf8)) == ["name": "Ü😀"])
    }

    @Test func flowYAMLStartingWithABraceIsYAML() throws {
        #expect(try parser.parse(Data("{a: 1, b: [x, y]}".utf8)) == ["a": 1, "b": ["x", "y"]])
    }

    @Test func failuresDescribeThemselves() {
        #expect(DocumentParser.Failure.empty.description == "the document is empty")
        #expect(DocumentParser.Failure.tooLarge(limit: 5).description == "the document is larger than 5 bytes")
        #expect(DocumentParser.Failure.notText.description == "the document is not UTF-8 text")
    }
}
