import APKModel
import CZlib
package import Foundation

/// gzip compression through zlib, deterministic (no file name, mtime 0), for definition ConfigMaps (§5.2).
package enum Gzip {
    package struct Failure: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    /// gzip-compresses `data` at the default level.
    package static func compress(_ data: Data) throws(Failure) -> Data {
        var stream = z_stream()
        // windowBits 15 + 16 selects the gzip wrapper.
        guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { throw Failure(description: "deflateInit2 failed") }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(data.count)))
        var output = [UInt8](repeating: 0, count: bound)
        var input = [UInt8](data)
        let status = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw Failure(description: "deflate failed (\(status))") }
        return Data(output.prefix(Int(stream.total_out)))
    }

    /// Decompresses a gzip stream, refusing output larger than `maxBytes` (a gzip bomb is an error, not an OOM).
    package static func decompress(_ data: Data, maxBytes: Int = 64 << 20) throws(Failure) -> Data {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(description: "inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var input = [UInt8](data)
        var result = Data()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        let failure: Failure? = input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            while status != Z_STREAM_END {
                status = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                result.append(contentsOf: chunk.prefix(produced))
                if result.count > maxBytes { return Failure(description: "decompressed data exceeds \(maxBytes) bytes") }
                if status != Z_OK, status != Z_STREAM_END { return Failure(description: "not valid gzip data") }
                if status == Z_OK, produced == 0, stream.avail_in == 0 { return Failure(description: "truncated gzip data") }
            }
            return nil
        }
        if let failure { throw failure }
        return result
    }
}
