/// Why bytes from the server could not be decoded as RESP2; the connection is closed when this is thrown.
package struct RESPDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stable kinds of decoding failure.
    package enum Code: String, Sendable, Hashable {
        /// The first byte of an element is none of `+ - : $ *`.
        case unknownType = "resp_unknown_type"
        /// A bulk or array length is not a decimal number, or is negative other than -1.
        case invalidLength = "resp_invalid_length"
        /// An integer reply is not a decimal number within 64 bits.
        case invalidInteger = "resp_invalid_integer"
        /// A bulk string is longer than ``RESPDecoder/Limits/maxBulkLength``.
        case bulkTooLong = "resp_bulk_too_long"
        /// A reply holds more than ``RESPDecoder/Limits/maxElements`` elements.
        case tooManyElements = "resp_too_many_elements"
        /// Arrays are nested deeper than ``RESPDecoder/Limits/maxDepth``.
        case nestingTooDeep = "resp_nesting_too_deep"
        /// A status or error line is longer than ``RESPDecoder/Limits/maxLineLength``.
        case lineTooLong = "resp_line_too_long"
        /// A line holds a carriage return that is not followed by a line feed.
        case invalidLine = "resp_invalid_line"
        /// A bulk string's bytes are not followed by CRLF.
        case missingTerminator = "resp_missing_terminator"
        /// A reply spans more than ``RESPDecoder/Limits/maxReplySize`` bytes.
        case replyTooLarge = "resp_reply_too_large"
    }

    /// The stable kind of failure.
    package var code: Code
    /// What was wrong (never the offending bytes themselves).
    package var detail: String

    /// Creates an error of `code` with an explanation.
    package init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// `code: detail`.
    package var description: String { "\(code.rawValue): \(detail)" }
}
