package import NIOCore

/// Decodes RESP2 replies from a byte stream, one complete (possibly nested) reply at a time.
///
/// Input may arrive split anywhere; nothing is consumed until an element is complete, and partially received arrays
/// are kept on an explicit stack, so decoding stays linear in the input. Everything a server could use to exhaust
/// memory is bounded by ``Limits``; a violation or any malformed byte throws ``RESPDecodingError``, after which the
/// connection must be closed (``RESPCommandHandler`` does).
package struct RESPDecoder: NIOSingleStepByteToMessageDecoder {
    package typealias InboundOut = RESPValue

    /// Bounds on what one reply may hold. The defaults suit a rate limiter's small replies with a wide margin.
    package struct Limits: Sendable, Hashable {
        /// The longest bulk string, in bytes (Redis allows 512 MiB; 16 MiB by default here).
        package var maxBulkLength: Int
        /// The most elements one reply may hold, those of nested arrays included (1 Mi by default).
        package var maxElements: Int
        /// The deepest nesting of arrays (a flat array is depth 1; 32 by default).
        package var maxDepth: Int
        /// The longest simple-string or error line, in bytes (64 KiB by default).
        package var maxLineLength: Int
        /// The most bytes one reply may span on the wire (64 MiB by default).
        package var maxReplySize: Int

        /// Creates limits; see the properties for the defaults.
        package init(
            maxBulkLength: Int = 16 << 20, maxElements: Int = 1 << 20, maxDepth: Int = 32,
            maxLineLength: Int = 64 << 10, maxReplySize: Int = 64 << 20
        ) {
            self.maxBulkLength = maxBulkLength
            self.maxElements = maxElements
            self.maxDepth = maxDepth
            self.maxLineLength = maxLineLength
            self.maxReplySize = maxReplySize
        }

        /// The defaults.
        package static let defaults = Limits()
    }

    /// An array whose elements are still arriving.
    private struct Frame {
        var remaining: Int
        var elements: [RESPValue]
    }

    /// One parsed element: a complete value, or the header of an array whose elements follow.
    private enum Element {
        case value(RESPValue)
        case arrayHeader(count: Int)
    }

    /// Integer and length lines hold at most a sign and 19 digits.
    private static let maxNumberLength = 20

    private let limits: Limits
    /// Bytes of the line at the reader index already searched for CR in vain, so that a line arriving in small
    /// pieces is scanned once, not once per piece.
    private var scannedLine = 0
    private var stack: [Frame] = []
    private var elementsInReply = 0
    private var bytesInReply = 0

    /// Creates a decoder enforcing `limits`.
    package init(limits: Limits = .defaults) {
        self.limits = limits
    }

    /// The next complete top-level reply, or nil until more bytes arrive.
    package mutating func decode(buffer: inout ByteBuffer) throws -> RESPValue? {
        while let element = try parseElement(&buffer) {
            var value: RESPValue
            switch element {
            case .value(let complete):
                value = complete
            case .arrayHeader(let count):
                guard stack.count < limits.maxDepth else {
                    throw RESPDecodingError(.nestingTooDeep, "arrays nested deeper than \(limits.maxDepth)")
                }
                stack.append(Frame(remaining: count, elements: []))
                stack[stack.count - 1].elements.reserveCapacity(min(count, 1024))
                continue
            }
            // Attach the value to the innermost open array; close every array it completes.
            while !stack.isEmpty {
                let top = stack.count - 1
                stack[top].elements.append(value)
                stack[top].remaining -= 1
                guard stack[top].remaining == 0 else { break }
                value = .array(stack.removeLast().elements)
            }
            if stack.isEmpty {
                elementsInReply = 0
                bytesInReply = 0
                return value
            }
        }
        return nil
    }

    /// At end of input a partial reply is dropped: the pending request fails when the channel goes inactive.
    package mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RESPValue? {
        try decode(buffer: &buffer)
    }

    /// Parses one element at the reader index, consuming it only when complete.
    private mutating func parseElement(_ buffer: inout ByteBuffer) throws -> Element? {
        guard let marker = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        switch marker {
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard let length = try lineLength(in: buffer, limit: limits.maxLineLength) else { return nil }
            try account(bytes: length + 3)
            let text = buffer.getString(at: buffer.readerIndex + 1, length: length) ?? ""
            buffer.moveReaderIndex(forwardBy: length + 3)
            return .value(marker == UInt8(ascii: "+") ? .simpleString(text) : .error(text))
        case UInt8(ascii: ":"):
            guard let (value, consumed) = try number(in: buffer) else { return nil }
            try account(bytes: consumed)
            buffer.moveReaderIndex(forwardBy: consumed)
            return .value(.integer(value))
        case UInt8(ascii: "$"):
            return try bulkString(&buffer)
        case UInt8(ascii: "*"):
            return try arrayHeader(&buffer)
        default:
            throw RESPDecodingError(.unknownType, "unknown RESP2 type byte \(marker)")
        }
    }

    private mutating func bulkString(_ buffer: inout ByteBuffer) throws -> Element? {
        guard let (length, headerLength) = try number(in: buffer, isLength: true) else { return nil }
        if length == -1 {
            try account(bytes: headerLength)
            buffer.moveReaderIndex(forwardBy: headerLength)
            return .value(.nullBulkString)
        }
        guard length >= 0 else { throw RESPDecodingError(.invalidLength, "bulk string length \(length)") }
        guard length <= limits.maxBulkLength else {
            throw RESPDecodingError(.bulkTooLong, "bulk string of \(length) bytes exceeds \(limits.maxBulkLength)")
        }
        let total = headerLength + Int(length) + 2
        try account(bytes: total, commit: false)
        guard buffer.readableBytes >= total else { return nil }
        let end = buffer.readerIndex + total
        guard buffer.getInteger(at: end - 2, as: UInt8.self) == UInt8(ascii: "\r"),
            buffer.getInteger(at: end - 1, as: UInt8.self) == UInt8(ascii: "\n")
        else {
            throw RESPDecodingError(.missingTerminator, "bulk string not followed by CRLF")
        }
        // Safe: the whole element is readable (checked above).
        let bytes = buffer.getSlice(at: buffer.readerIndex + headerLength, length: Int(length)) ?? ByteBuffer()
        try account(bytes: total)
        buffer.moveReaderIndex(forwardBy: total)
        return .value(.bulkString(bytes))
    }

    private mutating func arrayHeader(_ buffer: inout ByteBuffer) throws -> Element? {
        guard let (count, headerLength) = try number(in: buffer, isLength: true) else { return nil }
        guard count >= -1 else { throw RESPDecodingError(.invalidLength, "array length \(count)") }
        guard count <= limits.maxElements - elementsInReply else {
            throw RESPDecodingError(.tooManyElements, "reply holds more than \(limits.maxElements) elements")
        }
        try account(bytes: headerLength)
        buffer.moveReaderIndex(forwardBy: headerLength)
        switch count {
        case -1: return .value(.nullArray)
        case 0: return .value(.array([]))
        default:
            elementsInReply += Int(count)
            return .arrayHeader(count: Int(count))
        }
    }

    /// Counts `bytes` against the reply's size limit (or only checks them, when `commit` is false).
    private mutating func account(bytes: Int, commit: Bool = true) throws {
        guard bytes <= limits.maxReplySize - bytesInReply else {
            throw RESPDecodingError(.replyTooLarge, "reply larger than \(limits.maxReplySize) bytes")
        }
        if commit { bytesInReply += bytes }
    }

    /// The length of the line after the type byte (CRLF excluded), or nil while its CRLF has not arrived.
    private mutating func lineLength(in buffer: ByteBuffer, limit: Int) throws -> Int? {
        let content = buffer.readableBytesView.dropFirst().prefix(limit + 1)
        let unscanned = content.dropFirst(min(scannedLine, content.count))
        guard let carriageReturn = unscanned.firstIndex(of: UInt8(ascii: "\r")) else {
            if content.count > limit {
                throw RESPDecodingError(.lineTooLong, "line longer than \(limit) bytes")
            }
            scannedLine = content.count
            return nil
        }
        let next = carriageReturn + 1
        guard next < buffer.readableBytesView.endIndex else {
            scannedLine = carriageReturn - content.startIndex
            return nil
        }
        guard buffer.readableBytesView[next] == UInt8(ascii: "\n") else {
            throw RESPDecodingError(.invalidLine, "carriage return not followed by line feed")
        }
        scannedLine = 0
        return carriageReturn - content.startIndex
    }

    /// The signed decimal after the type byte and the bytes its line spans (type byte and CRLF included), or nil
    /// while incomplete.
    private mutating func number(in buffer: ByteBuffer, isLength: Bool = false) throws -> (Int64, Int)? {
        let code: RESPDecodingError.Code = isLength ? .invalidLength : .invalidInteger
        let length: Int?
        do {
            length = try lineLength(in: buffer, limit: Self.maxNumberLength)
        } catch let error as RESPDecodingError where error.code == .lineTooLong {
            throw RESPDecodingError(code, "number longer than \(Self.maxNumberLength) characters")
        }
        guard let length else { return nil }
        let digits = buffer.readableBytesView.dropFirst().prefix(length)
        guard let value = Self.parseInt64(digits) else {
            throw RESPDecodingError(code, "not a decimal number")
        }
        return (value, length + 3)
    }

    /// A strict decimal: an optional `-`, then one or more digits, within `Int64`.
    private static func parseInt64(_ bytes: ByteBufferView.SubSequence) -> Int64? {
        var index = bytes.startIndex
        let negative = index < bytes.endIndex && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < bytes.endIndex else { return nil }
        var value: Int64 = 0
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Int64(byte - UInt8(ascii: "0"))
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) =
                negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflowA, !overflowB else { return nil }
            value = next
            index += 1
        }
        return value
    }
}
