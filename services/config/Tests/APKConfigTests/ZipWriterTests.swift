import APKConfig
import Foundation
import Testing

@Suite struct ZipWriterTests {
    private static var python: String? {
        ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":")
            .map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private func sampleArchive() throws -> [UInt8] {
        var writer = ZipWriter()
        try writer.addFile(name: "api.yaml", contents: Array(String(repeating: "apiVersion: dp.wso2.com/v1alpha3\n", count: 50).utf8))
        try writer.addFile(name: "tiny.yaml", contents: Array("a: b\n".utf8))
        try writer.addFile(name: "empty.yaml", contents: [])
        try writer.addFile(name: "ünïcode.yaml", contents: Array("x: 1\n".utf8))
        return writer.finish()
    }

    @Test func crcMatchesKnownValue() {
        #expect(ZipWriter.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(ZipWriter.crc32([]) == 0)
    }

    @Test func deterministic() throws {
        #expect(try sampleArchive() == sampleArchive())
    }

    @Test func structure() throws {
        let archive = try sampleArchive()
        #expect(archive.starts(with: [0x50, 0x4B, 0x03, 0x04]))
        let end = Array(archive.suffix(22))
        #expect(end.starts(with: [0x50, 0x4B, 0x05, 0x06]))
        #expect(Int(end[10]) | Int(end[11]) << 8 == 4)  // total entries
        // DOS date of the first local header: 1980-01-01.
        #expect(archive[12] == 0x21 && archive[13] == 0x00)
    }

    @Test func rejectsDuplicateAndUnsafeNames() throws {
        var writer = ZipWriter()
        try writer.addFile(name: "a.yaml", contents: [])
        #expect(throws: ZipWriter.Failure.self) { try writer.addFile(name: "a.yaml", contents: []) }
        #expect(throws: ZipWriter.Failure.self) { try writer.addFile(name: "../evil", contents: []) }
        #expect(throws: ZipWriter.Failure.self) { try writer.addFile(name: "/abs", contents: []) }
        #expect(throws: ZipWriter.Failure.self) { try writer.addFile(name: "", contents: []) }
    }

    @Test(.enabled(if: python != nil, "python3 is needed to check the archive independently"))
    func pythonZipfileReadsIt() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("apk-zip-\(UUID().uuidString).zip")
        try Data(sampleArchive()).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let script = """
            import sys, zipfile, json
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            print(json.dumps([[i.filename, i.compress_type, i.date_time[0], len(z.read(i))] for i in z.infolist()]))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.python))
        process.arguments = ["-c", script, url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let text = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            text == #"[["api.yaml", 8, 1980, 1650], ["tiny.yaml", 0, 1980, 5], ["empty.yaml", 0, 1980, 0], ["\u00fcn\u00efcode.yaml", 0, 1980, 5]]"#)
    }
}
