package import NIOCore

/// Writes commands the way Redis expects them from clients: an array of bulk strings
/// (`*N\r\n$len\r\narg\r\n…`). Several commands written into one buffer form a pipeline.
package enum RESPEncoder {
    /// Appends one command (name first, then its arguments) to `buffer`.
    package static func encode(command: [String], into buffer: inout ByteBuffer) {
        writeHeader(UInt8(ascii: "*"), command.count, into: &buffer)
        for argument in command {
            writeHeader(UInt8(ascii: "$"), argument.utf8.count, into: &buffer)
            buffer.writeString(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    /// Appends one command given as raw byte arguments (binary-safe keys and values) to `buffer`.
    package static func encode(command: [[UInt8]], into buffer: inout ByteBuffer) {
        writeHeader(UInt8(ascii: "*"), command.count, into: &buffer)
        for argument in command {
            writeHeader(UInt8(ascii: "$"), argument.count, into: &buffer)
            buffer.writeBytes(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    /// One buffer holding every command in order: a pipeline that goes out in one write.
    package static func encode(commands: [[String]], allocator: ByteBufferAllocator = ByteBufferAllocator())
        -> ByteBuffer
    {
        var buffer = allocator.buffer(capacity: commands.reduce(0) { $0 + estimatedSize(of: $1) })
        for command in commands {
            encode(command: command, into: &buffer)
        }
        return buffer
    }

    /// One buffer holding every byte-argument command in order.
    package static func encode(commands: [[[UInt8]]], allocator: ByteBufferAllocator = ByteBufferAllocator())
        -> ByteBuffer
    {
        var buffer = allocator.buffer(capacity: 64 * commands.count)
        for command in commands {
            encode(command: command, into: &buffer)
        }
        return buffer
    }

    /// Close to the encoded size of `command`, to size buffers in one allocation.
    static func estimatedSize(of command: [String]) -> Int {
        command.reduce(16) { $0 + $1.utf8.count + 16 }
    }

    /// `*N\r\n` or `$N\r\n`, with the decimal written without an intermediate `String`.
    private static func writeHeader(_ marker: UInt8, _ count: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(marker)
        writeDecimal(count, into: &buffer)
        buffer.writeStaticString("\r\n")
    }

    /// The decimal digits of a non-negative `value` (counts and lengths are never negative), with no allocation.
    private static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        var digitCount = 1
        var probe = value
        while probe >= 10 {
            probe /= 10
            digitCount += 1
        }
        let start = buffer.writerIndex
        buffer.writeRepeatingByte(UInt8(ascii: "0"), count: digitCount)
        var remaining = value
        for offset in stride(from: digitCount - 1, through: 0, by: -1) {
            buffer.setInteger(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining % 10), at: start + offset)
            remaining /= 10
        }
    }
}
