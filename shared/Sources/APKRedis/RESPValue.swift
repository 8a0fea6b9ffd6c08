package import NIOCore

/// One RESP2 reply (or reply element) as Redis sends it.
///
/// Redis errors (`-ERR …`) are values, not thrown errors: a command that Redis rejects still answered, and the
/// connection stays usable. Null bulk strings and null arrays have cases of their own, so `switch` stays exhaustive.
package enum RESPValue: Sendable, Hashable {
    /// `+OK\r\n`: a short status line.
    case simpleString(String)
    /// `-ERR message\r\n`: an error that Redis answered with.
    case error(String)
    /// `:42\r\n`: a signed 64-bit integer.
    case integer(Int64)
    /// `$3\r\nfoo\r\n`: binary-safe bytes.
    case bulkString(ByteBuffer)
    /// `$-1\r\n`: the null bulk string (for example `GET` of a missing key).
    case nullBulkString
    /// `*2\r\n…`: an array of replies, possibly nested.
    case array([RESPValue])
    /// `*-1\r\n`: the null array.
    case nullArray
}

extension RESPValue {
    /// A bulk string holding the UTF-8 bytes of `string`.
    package static func bulkString(_ string: String) -> RESPValue {
        .bulkString(ByteBuffer(string: string))
    }

    /// The text of a simple string, or the bytes of a bulk string decoded as UTF-8 (invalid bytes replaced); nil for
    /// every other case, errors included.
    package var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes): String(buffer: bytes)
        default: nil
        }
    }

    /// The value of an integer reply, or of a bulk or simple string that holds a decimal integer (as `GET` of a
    /// counter returns); nil otherwise.
    package var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .bulkString, .simpleString: string.flatMap { Int64($0) }
        default: nil
        }
    }

    /// The elements of an array reply; nil for the null array and for every other case.
    package var array: [RESPValue]? {
        if case .array(let elements) = self { elements } else { nil }
    }

    /// The message of an error reply; nil for every other case.
    package var errorMessage: String? {
        if case .error(let message) = self { message } else { nil }
    }

    /// True for the null bulk string and the null array.
    package var isNull: Bool {
        switch self {
        case .nullBulkString, .nullArray: true
        default: false
        }
    }
}

extension RESPValue: CustomStringConvertible {
    /// A short, human-readable rendering for logs and test failures (bulk strings longer than 64 bytes are elided).
    package var description: String {
        switch self {
        case .simpleString(let text): "+\(text)"
        case .error(let message): "-\(message)"
        case .integer(let value): ":\(value)"
        case .bulkString(let bytes):
            bytes.readableBytes <= 64
                ? "$\"\(String(buffer: bytes))\"" : "$<\(bytes.readableBytes) bytes>"
        case .nullBulkString: "$nil"
        case .array(let elements): "[" + elements.map(\.description).joined(separator: ", ") + "]"
        case .nullArray: "*nil"
        }
    }
}
