import APKRuntime
import NIOCore
import Testing

@Suite struct MultipartParserTests {
    private let parser = MultipartParser()

    @Test func parsesFilesAndTextFields() throws {
        var body = MultipartBody()
        body.file("definition", filename: "petstore.yaml", "openapi: 3.0.1\r\n--not-a-boundary\r\n", contentType: "application/yaml")
        body.text("apiType", "rest")
        body.text("empty", "")
        let form = try parser.parse(body.buffer, boundary: body.boundary)
        #expect(form.parts.count == 3)
        let definition = try #require(form.part(named: "definition"))
        #expect(definition.filename == "petstore.yaml")
        #expect(definition.contentType == "application/yaml")
        #expect(String(buffer: definition.body) == "openapi: 3.0.1\r\n--not-a-boundary\r\n")
        #expect(form.part(named: "apiType")?.text == "rest")
        #expect(form.part(named: "empty") == nil)  // empty parts count as absent
        #expect(form.part(named: "url") == nil)
    }

    @Test func binaryContentIsKeptExactly() throws {
        let bytes: [UInt8] = (0...255).map(UInt8.init) + [0x0D, 0x0A, 0x2D, 0x2D, 0x0D, 0x0A]
        var body = MultipartBody()
        body.file("definition", filename: "blob.bin", bytes: bytes)
        let form = try parser.parse(body.buffer, boundary: body.boundary)
        #expect(form.part(named: "definition").map { Array($0.body.readableBytesView) } == bytes)
    }

    @Test func preambleEpilogueAndPadding() throws {
        let text = "preamble\r\n--b1  \r\nContent-Disposition: form-data; name=\"url\"\r\n\r\nhttp://x\r\n--b1--\r\nepilogue"
        let form = try parser.parse(ByteBuffer(string: text), boundary: "b1")
        #expect(form.part(named: "url")?.text == "http://x")
    }

    @Test(arguments: [
        ("multipart/form-data; boundary=abc", "abc"),
        ("Multipart/Form-Data; charset=utf-8; boundary=\"a b:c\"", "a b:c"),
        ("multipart/form-data;boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW", "----WebKitFormBoundary7MA4YWxkTrZu0gW"),
    ])
    func boundaries(contentType: String, boundary: String) throws {
        #expect(try MultipartParser.boundary(contentType: contentType) == boundary)
    }

    @Test(arguments: [
        (nil, MultipartParser.Failure.notMultipart),
        ("application/json", .notMultipart),
        ("multipart/form-data", .invalidBoundary),
        ("multipart/form-data; boundary=", .invalidBoundary),
        ("multipart/form-data; boundary=\"trailing \"", .invalidBoundary),
        ("multipart/form-data; boundary=bad{char}", .invalidBoundary),
        ("multipart/form-data; boundary=" + String(repeating: "x", count: 71), .invalidBoundary),
    ] as [(String?, MultipartParser.Failure)])
    func badBoundaries(contentType: String?, failure: MultipartParser.Failure) {
        #expect(throws: failure) { try MultipartParser.boundary(contentType: contentType) }
    }

    @Test(arguments: [
        "",
        "no boundary at all",
        "--b1\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated",
        "--b1\r\nContent-Disposition: form-data; name=\"a\"\r\nno blank line",
        "--b1\r\nX-Other: 1\r\n\r\nno disposition\r\n--b1--",
        "--b1\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--b1--",
        "--b1\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--b1--",
        "--b1\r\nbroken header line\r\n\r\nx\r\n--b1--",
        "--b1garbage\r\n\r\nx\r\n--b1--",
        "--b1\r\n\r\nno headers means no name\r\n--b1--",
    ])
    func malformedBodies(text: String) {
        #expect(throws: MultipartParser.Failure.self) { try parser.parse(ByteBuffer(string: text), boundary: "b1") }
    }

    @Test func headerBytesAreBounded() {
        var limits = MultipartParser.Limits()
        limits.maxHeaderBytes = 64
        let text = "--b1\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: \(String(repeating: "p", count: 200))\r\n\r\nx\r\n--b1--"
        #expect(throws: MultipartParser.Failure.headersTooLarge(limit: 64)) {
            try MultipartParser(limits: limits).parse(ByteBuffer(string: text), boundary: "b1")
        }
    }

    @Test func partCountIsBounded() {
        var body = MultipartBody()
        for i in 0..<17 { body.text("f\(i)", "v") }
        #expect(throws: MultipartParser.Failure.tooManyParts(limit: 16)) { try parser.parse(body.buffer, boundary: body.boundary) }
    }

    @Test func randomGarbageNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        for length in [1, 7, 64, 1000] {
            for _ in 0..<50 {
                var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                if length > 10 { bytes.replaceSubrange(0..<4, with: Array("--b1".utf8)) }
                _ = try? parser.parse(ByteBuffer(bytes: bytes), boundary: "b1")
            }
        }
    }
}
