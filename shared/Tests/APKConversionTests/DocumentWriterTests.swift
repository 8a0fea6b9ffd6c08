import APKModel
import Foundation
import Testing
import APKConversion

@Suite("DocumentWriter: deterministic JSON and YAML that read back as the same value")
struct DocumentWriterTests {
    private func readBack(_ text: String) throws -> JSONValue { try DocumentParser().parse(Data(text.utf8)) }

    // MARK: YAML quoting

    @Test(arguments: ["true", "1.0", "yes", "", "null"])
    func stringsThatLookLikeOtherTypesAreQuoted(_ string: String) throws {
        let yaml = DocumentWriter.yaml(["value": .string(string)])
        #expect(yaml == "value: \"\(string)\"\n")
        #expect(try readBack(yaml) == ["value": .string(string)])
    }

    @Test(arguments: [
        "True", "FALSE", "No", "on", "OFF", "y", "N", "~", "Null", "42", "-7", "0x1F", "0o17", "1e3", "3.14", ".5", "1.",
        "+1", "012", "1_000", ".inf", "-.inf", ".nan", "2024-01-01", "12:30", "-", "#comment", "a: b", "- item", "x #y",
        " leading", "trailing ", "multi\nline", "tab\there", "quote\"s", "it's", "back\\slash", "*alias", "&anchor",
        "!tag", "%directive", "@at", "`tick", "|", ">", "{", "}", "[", "]", ",", "?", ":", "? key", "<<", "=",
        "Ünïcødé 日本 😀", "\u{1}", "\u{7F}", "\u{85}", "\u{2028}", "/employee/{id}", "http://backend:80/x?a=1#f",
    ])
    func anyStringReadsBackAsTheSameString(_ string: String) throws {
        let value = JSONValue.object(JSONObject([("value", .string(string)), (string, "key")]))
        #expect(try readBack(DocumentWriter.yaml(value)) == value)
    }

    /// The reference's apk-conf form (Jackson's YAML writer): every string value double-quoted, keys plain — and
    /// still the same value when read back. Long values stay on one line (see ``DocumentWriter/yaml(_:explicitStart:quoteStrings:)``).
    @Test func quotedStringsReadBack() throws {
        let long = (0..<30).map { "word\($0)" }.joined(separator: " ")
        let value: JSONValue = [
            "name": "EmployeeServiceAPI", "count": 3, "flag": false, "scopes": ["a:b", "Ünïcødé 😀"], "long": .string(long),
        ]
        let yaml = DocumentWriter.yaml(value, quoteStrings: true)
        #expect(yaml.hasPrefix("name: \"EmployeeServiceAPI\"\ncount: 3\nflag: false\nscopes:\n- \"a:b\"\n"))
        #expect(yaml.contains("\nlong: \"\(long)\"\n"))
        #expect(try readBack(yaml) == value)
    }

    @Test func plainStringsStayPlain() {
        #expect(DocumentWriter.yaml(["name": "EmployeeServiceAPI", "target": "/employee/{id}"])
            == "name: EmployeeServiceAPI\ntarget: /employee/{id}\n")
    }

    @Test func keysThatLookLikeOtherTypesAreQuoted() throws {
        let value: JSONValue = ["true": 1, "": 2, "1.0": 3, "null": 4]
        let yaml = DocumentWriter.yaml(value)
        #expect(yaml == "\"true\": 1\n\"\": 2\n\"1.0\": 3\n\"null\": 4\n")
        #expect(try readBack(yaml) == value)
    }

    @Test func scalarsOfEveryTypeRoundTrip() throws {
        let value: JSONValue = [
            "null": nil, "bool": false, "int": -12, "double": .double(2), "fraction": .double(0.25), "big": .double(1e300),
            "emptyArray": [], "emptyObject": [:], "nested": [["a": [1, "1"]], [true, "true"]],
        ]
        let yaml = DocumentWriter.yaml(value)
        #expect(try readBack(yaml) == value)
        #expect(try readBack(DocumentWriter.json(value)) == value)
        #expect(try readBack(DocumentWriter.json(value, pretty: true)) == value)
        #expect(yaml.hasPrefix("\"null\": null\n"))
        #expect(yaml.contains("\ndouble: 2.0\n"))
        #expect(yaml.contains("\nemptyArray: []\n"))
        #expect(yaml.contains("\nemptyObject: {}\n"))
    }

    @Test func explicitStartAndStreams() {
        #expect(DocumentWriter.yaml(["a": 1], explicitStart: true) == "---\na: 1\n")
        #expect(DocumentWriter.yamlStream([["a": 1], ["b": 2]]) == "---\na: 1\n---\nb: 2\n")
    }

    @Test func blockStyleWithTwoSpaceIndent() {
        let yaml = DocumentWriter.yaml(["operations": [["target": "/a", "verb": "GET"]], "cors": ["origins": ["*"]]])
        #expect(yaml == "operations:\n- target: /a\n  verb: GET\ncors:\n  origins:\n  - '*'\n")
    }

    // MARK: JSON

    @Test func jsonEscaping() throws {
        let value: JSONValue = ["a\"b": "q\" b\\ n\n r\r t\t c\u{1} d\u{1F} / é 😀"]
        let json = DocumentWriter.json(value)
        #expect(json == #"{"a\"b":"q\" b\\ n\n r\r t\t c\u0001 d\u001f / é 😀"}"#)
        #expect(try JSONParser.parse(Array(json.utf8)) == value)
    }

    @Test func compactAndPrettyJSON() {
        let value: JSONValue = ["a": [1, ["b": true]], "e": [], "o": [:], "n": nil, "d": .double(1.5)]
        #expect(DocumentWriter.json(value) == #"{"a":[1,{"b":true}],"e":[],"o":{},"n":null,"d":1.5}"#)
        #expect(
            DocumentWriter.json(value, pretty: true) == """
                {
                  "a": [
                    1,
                    {
                      "b": true
                    }
                  ],
                  "e": [],
                  "o": {},
                  "n": null,
                  "d": 1.5
                }
                """)
    }

    @Test(arguments: [(1.0, "1.0"), (-3.0, "-3.0"), (0.5, "0.5"), (1e15, "1000000000000000.0"), (1e16, "1e+16"), (123456.0, "123456.0")])
    func doublesStayDoubles(_ double: Double, text: String) throws {
        #expect(DocumentWriter.formatDouble(double) == text)
        #expect(try readBack(DocumentWriter.json([.double(double)])) == [.double(double)])
        #expect(try readBack(DocumentWriter.yaml(["d": .double(double)])) == ["d": .double(double)])
    }

    // MARK: determinism and order

    @Test func outputIsDeterministicAndKeepsKeyOrder() {
        func build() -> JSONValue {
            var object = JSONObject()
            for key in ["zeta", "alpha", "mid", "beta"] { object[key] = .string(key.uppercased()) }
            return .object(object)
        }
        let first = DocumentWriter.yaml(build())
        for _ in 0..<20 {
            #expect(DocumentWriter.yaml(build()) == first)
            #expect(DocumentWriter.json(build()) == DocumentWriter.json(build()))
        }
        #expect(first == "zeta: ZETA\nalpha: ALPHA\nmid: MID\nbeta: BETA\n")
        #expect(DocumentWriter.json(build()) == #"{"zeta":"ZETA","alpha":"ALPHA","mid":"MID","beta":"BETA"}"#)
    }

    @Test func unicodeIsWrittenAsIs() throws {
        let value: JSONValue = ["name": "Ünïcødé 日本 ☃"]
        #expect(DocumentWriter.yaml(value) == "name: Ünïcødé 日本 ☃\n")
        #expect(DocumentWriter.json(value) == #"{"name":"Ünïcødé 日本 ☃"}"#)
        #expect(try readBack(DocumentWriter.yaml(value)) == value)
    }

    @Test func charactersOutsideTheBasicPlaneReadBack() throws {
        // libyaml's emitter escapes 4-byte UTF-8 (`"\U0001F600"`); JSON keeps them as they are. Both read back.
        let value: JSONValue = ["name": "emoji 😀 𝄞"]
        #expect(DocumentWriter.json(value) == #"{"name":"emoji 😀 𝄞"}"#)
        #expect(try readBack(DocumentWriter.yaml(value)) == value)
        #expect(try readBack(DocumentWriter.json(value)) == value)
    }

    @Test func longStringsAreNotFolded() throws {
        let long = String(repeating: "word ", count: 60) + "end"
        let yaml = DocumentWriter.yaml(["description": .string(long)])
        #expect(yaml.split(separator: "\n").count == 1)
        #expect(try readBack(yaml) == ["description": .string(long)])
    }
}
