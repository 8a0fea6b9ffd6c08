import CZlib

/// A minimal, deterministic zip archive writer (PKWARE APPNOTE 6.3: local headers, central directory, end record).
///
/// Every entry is a regular file (mode 0644) dated 1980-01-01 00:00 (the DOS epoch), deflated when that is
/// smaller and stored otherwise; names are UTF-8 (flag bit 11). No zip64: an archive is limited to 65,535 entries
/// and 4 GiB, far above any CR bundle. Same entries in, same bytes out.
package struct ZipWriter: Sendable {
    package struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        package var description: String
    }

    private struct Entry {
        var name: [UInt8]
        var method: UInt16
        var crc: UInt32
        var compressedSize: UInt32
        var size: UInt32
        var offset: UInt32
    }

    private var output: [UInt8] = []
    private var entries: [Entry] = []
    private var names: Set<[UInt8]> = []
    package var compress: Bool

    package init(compress: Bool = true) { self.compress = compress }

    /// Appends a file; names must be unique, relative and at most 65,535 bytes.
    package mutating func addFile(name: String, contents: [UInt8]) throws(Failure) {
        let nameBytes = Array(name.utf8)
        guard !nameBytes.isEmpty, nameBytes.count <= 0xFFFF, !name.hasPrefix("/"), !name.split(separator: "/").contains("..")
        else { throw Failure(description: "invalid entry name \"\(name)\"") }
        guard names.insert(nameBytes).inserted else { throw Failure(description: "duplicate entry name \"\(name)\"") }
        guard entries.count < 0xFFFF else { throw Failure(description: "more than 65535 entries") }
        let deflated = compress ? Self.deflateRaw(contents) : nil
        let (method, data): (UInt16, [UInt8]) =
            if let deflated, deflated.count < contents.count { (8, deflated) } else { (0, contents) }
        let offset = output.count
        guard offset + 30 + nameBytes.count + data.count < Int(UInt32.max) - (1 << 20), contents.count < Int(UInt32.max)
        else { throw Failure(description: "archive larger than 4 GiB") }
        let entry = Entry(
            name: nameBytes, method: method, crc: Self.crc32(contents), compressedSize: UInt32(data.count),
            size: UInt32(contents.count), offset: UInt32(offset))
        append32(0x0403_4B50)
        appendCommon(entry)
        append16(0)  // extra field length
        output += nameBytes
        output += data
        entries.append(entry)
    }

    /// The finished archive.
    package func finish() -> [UInt8] {
        var archive = self
        let directoryOffset = archive.output.count
        for entry in entries {
            archive.append32(0x0201_4B50)
            archive.append16(0x0314)  // made by: UNIX, spec 2.0 (so the external attributes carry a mode)
            archive.appendCommon(entry)
            archive.append16(0)  // extra field length
            archive.append16(0)  // comment length
            archive.append16(0)  // disk number start
            archive.append16(0)  // internal attributes
            archive.append32(0o100644 << 16)  // external attributes: regular file, rw-r--r--
            archive.append32(entry.offset)
            archive.output += entry.name
        }
        let directorySize = archive.output.count - directoryOffset
        archive.append32(0x0605_4B50)
        archive.append16(0)  // this disk
        archive.append16(0)  // disk with the central directory
        archive.append16(UInt16(entries.count))
        archive.append16(UInt16(entries.count))
        archive.append32(UInt32(truncatingIfNeeded: directorySize))
        archive.append32(UInt32(truncatingIfNeeded: directoryOffset))
        archive.append16(0)  // comment length
        return archive.output
    }

    /// Fields shared by local and central headers, from "version needed" to the name length.
    private mutating func appendCommon(_ entry: Entry) {
        append16(20)  // version needed: 2.0 (deflate)
        append16(0x0800)  // flags: UTF-8 names
        append16(entry.method)
        append16(0)  // time 00:00:00
        append16(0x0021)  // date 1980-01-01: (0 << 9) | (1 << 5) | 1
        append32(entry.crc)
        append32(entry.compressedSize)
        append32(entry.size)
        append16(UInt16(entry.name.count))
    }

    private mutating func append16(_ value: UInt16) {
        output.append(UInt8(truncatingIfNeeded: value))
        output.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    private mutating func append32(_ value: UInt32) {
        append16(UInt16(truncatingIfNeeded: value))
        append16(UInt16(truncatingIfNeeded: value >> 16))
    }

    /// CRC-32 (ISO-HDLC, as zip uses) through zlib.
    package static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            UInt32(CZlib.crc32(0, buffer.baseAddress, uInt(buffer.count)))
        }
    }

    /// Raw deflate (no zlib or gzip wrapper), or nil if zlib fails.
    static func deflateRaw(_ input: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        // windowBits -15 selects raw deflate, as zip stores it.
        guard deflateInit2_(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { return nil }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))))
        var input = input
        let status = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        return Array(output.prefix(Int(stream.total_out)))
    }
}
