import APKRedis
import NIOCore
import NIOEmbedded
import Testing

/// The RESP2 wire format: commands encode as arrays of bulk strings; every reply type decodes whole, split at any
/// byte and pipelined; and hostile input ends in a typed ``RESPDecodingError`` instead of a crash or unbounded memory.
@Suite struct RESPCodecTests {
    /// Every reply type with its wire bytes, nested and null forms included.
    static let replies: [(wire: String, value: RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("+\r\n", .simpleString("")),
        ("-ERR unknown command 'FOO'\r\n", .error("ERR unknown command 'FOO'")),
        (":0\r\n", .integer(0)),
        (":-42\r\n", .integer(-42)),
        (":9223372036854775807\r\n", .integer(.max)),
        (":-9223372036854775808\r\n", .integer(.min)),
        ("$5\r\nhello\r\n", .bulkString("hello")),
        ("$0\r\n\r\n", .bulkString("")),
        ("$4\r\na\r\nb\r\n", .bulkString("a\r\nb")),
        ("$-1\r\n", .nullBulkString),
        ("*0\r\n", .array([])),
        ("*-1\r\n", .nullArray),
        ("*3\r\n:1\r\n$-1\r\n+x\r\n", .array([.integer(1), .nullBulkString, .simpleString("x")])),
        (
            "*2\r\n*2\r\n:1\r\n*1\r\n$1\r\na\r\n*-1\r\n",
            .array([.array([.integer(1), .array([.bulkString("a")])]), .nullArray])
        ),
    ]

    private func decoderChannel(limits: RESPDecoder.Limits = .defaults) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder(limits: limits)))
        return channel
    }

    private func readAll(_ channel: EmbeddedChannel) throws -> [RESPValue] {
        var values: [RESPValue] = []
        while let value = try channel.readInbound(as: RESPValue.self) { values.append(value) }
        return values
    }

    @Test func encodesCommandsAsArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPEncoder.encode(command: ["SET", "key", "välue", "EX", "123456789012"], into: &buffer)
        #expect(
            String(buffer: buffer)
                == "*5\r\n$3\r\nSET\r\n$3\r\nkey\r\n$6\r\nvälue\r\n$2\r\nEX\r\n$12\r\n123456789012\r\n")

        var bytes = ByteBuffer()
        RESPEncoder.encode(command: [Array("GET".utf8), [0, 13, 10, 255]], into: &bytes)
        #expect(Array(bytes.readableBytesView) == Array("*2\r\n$3\r\nGET\r\n$4\r\n".utf8) + [0, 13, 10, 255, 13, 10])
    }

    @Test func encodesPipelinesIntoOneBuffer() {
        let pipeline = RESPEncoder.encode(commands: [["PING"], ["INCRBY", "k", "-1"]])
        #expect(String(buffer: pipeline) == "*1\r\n$4\r\nPING\r\n*3\r\n$6\r\nINCRBY\r\n$1\r\nk\r\n$2\r\n-1\r\n")
        #expect(RESPEncoder.encode(commands: [[String]]()).readableBytes == 0)
    }

    @Test func decodesEveryReplyType() throws {
        for (wire, value) in Self.replies {
            let channel = try decoderChannel()
            try channel.writeInbound(ByteBuffer(string: wire))
            #expect(try readAll(channel) == [value], "\(wire.debugDescription)")
            #expect(try channel.finish().isClean)
        }
    }

    @Test func decodesInputFedOneByteAtATime() throws {
        for (wire, value) in Self.replies {
            let channel = try decoderChannel()
            let bytes = Array(wire.utf8)
            for (index, byte) in bytes.enumerated() {
                try channel.writeInbound(ByteBuffer(bytes: [byte]))
                let decoded = try readAll(channel)
                #expect(decoded == (index == bytes.count - 1 ? [value] : []), "\(wire.debugDescription) at \(index)")
            }
        }
    }

    @Test func decodesPipelinedRepliesSplitAtEveryByte() throws {
        let wire = Array(Self.replies.map(\.wire).joined().utf8)
        let expected = Self.replies.map(\.value)
        for split in 0...wire.count {
            let channel = try decoderChannel()
            try channel.writeInbound(ByteBuffer(bytes: wire[..<split]))
            try channel.writeInbound(ByteBuffer(bytes: wire[split...]))
            #expect(try readAll(channel) == expected, "split at \(split)")
        }
    }

    /// One malformed or limit-breaking input and the error it must produce.
    struct Hostile: Sendable, CustomTestStringConvertible {
        var name: String
        var wire: [UInt8]
        var code: RESPDecodingError.Code
        var limits = RESPDecoder.Limits.defaults
        var testDescription: String { name }
    }

    static let hostile: [Hostile] = [
        Hostile(name: "non-numeric bulk length", wire: Array("$abc\r\n".utf8), code: .invalidLength),
        Hostile(name: "empty bulk length", wire: Array("$\r\n".utf8), code: .invalidLength),
        Hostile(name: "bulk length -2", wire: Array("$-2\r\n".utf8), code: .invalidLength),
        Hostile(name: "bulk length Int64.min", wire: Array("$-9223372036854775808\r\n".utf8), code: .invalidLength),
        Hostile(name: "bulk length too many digits", wire: Array("$9999999999999999999999999\r\n".utf8),
                code: .invalidLength),
        Hostile(name: "bulk length without CRLF",
                wire: [UInt8(ascii: "$")] + Array(repeating: UInt8(ascii: "9"), count: 40),
                code: .invalidLength),
        Hostile(name: "array length -5", wire: Array("*-5\r\n".utf8), code: .invalidLength),
        Hostile(name: "array length plus sign", wire: Array("*+1\r\n".utf8), code: .invalidLength),
        Hostile(name: "bulk over 16 MiB", wire: Array("$16777217\r\n".utf8), code: .bulkTooLong),
        Hostile(name: "bulk over a small limit", wire: Array("$11\r\n".utf8), code: .bulkTooLong,
                limits: .init(maxBulkLength: 10)),
        Hostile(name: "array over the element limit", wire: Array("*1048577\r\n".utf8), code: .tooManyElements),
        Hostile(name: "nested arrays over the element limit", wire: Array("*2\r\n*2\r\n:1\r\n:2\r\n*2\r\n".utf8),
                code: .tooManyElements, limits: .init(maxElements: 5)),
        Hostile(name: "nesting deeper than 32", wire: Array(String(repeating: "*1\r\n", count: 33).utf8),
                code: .nestingTooDeep),
        Hostile(name: "unknown type byte", wire: Array("?what\r\n".utf8), code: .unknownType),
        Hostile(name: "RESP3 map type", wire: Array("%1\r\n".utf8), code: .unknownType),
        Hostile(name: "integer with letters", wire: Array(":12a\r\n".utf8), code: .invalidInteger),
        Hostile(name: "integer overflow", wire: Array(":9223372036854775808\r\n".utf8), code: .invalidInteger),
        Hostile(name: "integer sign only", wire: Array(":-\r\n".utf8), code: .invalidInteger),
        Hostile(name: "status line without end", wire: [UInt8(ascii: "+")] + Array(repeating: 97, count: 1_100),
                code: .lineTooLong, limits: .init(maxLineLength: 1_000)),
        Hostile(name: "error line over 64 KiB", wire: Array("-ERR ".utf8) + Array(repeating: 97, count: 70_000)
                + Array("\r\n".utf8), code: .lineTooLong),
        Hostile(name: "carriage return alone", wire: Array("+ab\rc\r\n".utf8), code: .invalidLine),
        Hostile(name: "bulk without CRLF after its bytes", wire: Array("$3\r\nfooXY".utf8), code: .missingTerminator),
        Hostile(name: "reply over the size limit", wire: Array("*3\r\n$40\r\n".utf8) + Array(repeating: 97, count: 40)
                + Array("\r\n$40\r\n".utf8), code: .replyTooLarge, limits: .init(maxReplySize: 64)),
    ]

    @Test(arguments: hostile)
    func hostileInputFailsWithTypedError(_ input: Hostile) throws {
        // Whole, and one byte at a time: either way the same typed error, and nothing decoded before it.
        for chunkSize in [input.wire.count, 1] {
            let channel = try decoderChannel(limits: input.limits)
            var thrown: RESPDecodingError?
            var start = 0
            while start < input.wire.count, thrown == nil {
                let chunk = input.wire[start..<min(start + chunkSize, input.wire.count)]
                start += chunk.count
                do {
                    try channel.writeInbound(ByteBuffer(bytes: chunk))
                } catch let error as RESPDecodingError {
                    thrown = error
                }
            }
            #expect(thrown?.code == input.code, "chunks of \(chunkSize)")
            #expect(try readAll(channel) == [])
            _ = try? channel.finish()
        }
    }

    @Test func limitsAllowRepliesAtTheirBounds() throws {
        let limits = RESPDecoder.Limits(maxBulkLength: 3, maxElements: 2, maxDepth: 2, maxLineLength: 4)
        let channel = try decoderChannel(limits: limits)
        try channel.writeInbound(ByteBuffer(string: "$3\r\nabc\r\n*1\r\n*1\r\n:1\r\n+abcd\r\n*2\r\n:1\r\n:2\r\n"))
        #expect(
            try readAll(channel) == [
                .bulkString("abc"), .array([.array([.integer(1)])]), .simpleString("abcd"),
                .array([.integer(1), .integer(2)]),
            ])
    }
}
