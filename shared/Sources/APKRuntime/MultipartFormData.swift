import Foundation
package import NIOCore

/// A parsed `multipart/form-data` body (RFC 7578): the parts in request order.
package struct MultipartFormData: Sendable {
    /// One part: its form field name, optional file name and content type, and its bytes.
    package struct Part: Sendable {
        package var name: String
        package var filename: String?
        package var contentType: String?
        package var body: ByteBuffer

        /// The body as UTF-8 text, surrounding whitespace trimmed (for text fields such as `url`).
        package var text: String {
            String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    package var parts: [Part]

    /// The first part named `name` whose body is not empty (browsers send empty parts for unfilled fields).
    package func part(named name: String) -> Part? {
        parts.first { $0.name == name && $0.body.readableBytes > 0 }
    }
}

/// A bounded `multipart/form-data` parser working on a fully collected body.
///
/// Bounds: at most ``Limits/maxParts`` parts and ``Limits/maxHeaderBytes`` bytes of headers per part; the body
/// itself is bounded by whoever collected it. Anything that does not follow RFC 2046's delimiter grammar is a
/// ``Failure``, never a crash.
package struct MultipartParser: Sendable {
    package struct Limits: Sendable, Hashable {
        package var maxParts = 16
        package var maxHeaderBytes = 8 * 1024

        package init() {}
    }

    /// Why a body is not acceptable `multipart/form-data`.
    package enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        case notMultipart
        case invalidBoundary
        case malformed(String)
        case tooManyParts(limit: Int)
        case headersTooLarge(limit: Int)

        package var description: String {
            switch self {
            case .notMultipart: "the request is not multipart/form-data"
            case .invalidBoundary: "the multipart boundary is missing or invalid"
            case .malformed(let reason): "malformed multipart body: \(reason)"
            case .tooManyParts(let limit): "more than \(limit) multipart parts"
            case .headersTooLarge(let limit): "multipart part headers larger than \(limit) bytes"
            }
        }
    }

    package var limits: Limits

    package init(limits: Limits = Limits()) { self.limits = limits }

    /// The boundary of a `multipart/form-data` content type (quoted or not), validated against RFC 2046.
    package static func boundary(contentType: String?) throws(Failure) -> String {
        guard let contentType else { throw .notMultipart }
        let fields = HeaderParameters.split(contentType)
        guard fields.value.lowercased() == "multipart/form-data" else { throw .notMultipart }
        guard let boundary = fields.parameters["boundary"], (1...70).contains(boundary.utf8.count),
            boundary.utf8.last != UInt8(ascii: " "),
            boundary.utf8.allSatisfy(Self.isBoundaryByte)
        else { throw .invalidBoundary }
        return boundary
    }

    /// Parses `body` delimited by `boundary`.
    package func parse(_ body: ByteBuffer, boundary: String) throws(Failure) -> MultipartFormData {
        let bytes = Array(body.readableBytesView)
        let dashBoundary = Array("--\(boundary)".utf8)
        let delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter may open the body (no CRLF before it) or follow a preamble.
        var position: Int
        if bytes.starts(with: dashBoundary) {
            position = dashBoundary.count
        } else if let found = Self.find(delimiter, in: bytes[...], from: 0) {
            position = found + delimiter.count
        } else {
            throw .malformed("no opening boundary")
        }
        var parts: [MultipartFormData.Part] = []
        while true {
            if bytes[position...].starts(with: [0x2D, 0x2D]) { break }  // "--": close delimiter
            position = try skipPaddingAndCRLF(bytes, from: position)
            guard parts.count < limits.maxParts else { throw .tooManyParts(limit: limits.maxParts) }
            let (headers, contentStart) = try readHeaders(bytes, from: position)
            guard let end = Self.find(delimiter, in: bytes[...], from: contentStart) else {
                throw .malformed("part \(parts.count + 1) is not terminated by a boundary")
            }
            parts.append(try Self.makePart(headers: headers, content: body, range: contentStart..<end))
            position = end + delimiter.count
        }
        return MultipartFormData(parts: parts)
    }

    // MARK: - Pieces

    private func skipPaddingAndCRLF(_ bytes: [UInt8], from start: Int) throws(Failure) -> Int {
        var position = start
        while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x09 { position += 1 }
        guard bytes[position...].starts(with: [0x0D, 0x0A]) else { throw .malformed("boundary not followed by CRLF") }
        return position + 2
    }

    /// The header lines of one part and the offset where its content starts.
    private func readHeaders(_ bytes: [UInt8], from start: Int) throws(Failure) -> ([(String, String)], Int) {
        if bytes[start...].starts(with: [0x0D, 0x0A]) { return ([], start + 2) }  // no headers at all
        let searchEnd = min(bytes.count, start + limits.maxHeaderBytes + 4)
        guard let end = Self.find([0x0D, 0x0A, 0x0D, 0x0A], in: bytes[..<searchEnd], from: start) else {
            if searchEnd < bytes.count { throw .headersTooLarge(limit: limits.maxHeaderBytes) }
            throw .malformed("part headers are not terminated")
        }
        guard let text = String(validating: bytes[start..<end], as: UTF8.self) else {
            throw .malformed("part headers are not UTF-8")
        }
        var headers: [(String, String)] = []
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: false) {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("header line without a colon") }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            guard !name.isEmpty else { throw .malformed("empty header name") }
            headers.append((name, line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return (headers, end + 4)
    }

    private static func makePart(
        headers: [(String, String)], content: ByteBuffer, range: Range<Int>
    ) throws(Failure) -> MultipartFormData.Part {
        guard let disposition = headers.first(where: { $0.0 == "content-disposition" })?.1 else {
            throw .malformed("part without Content-Disposition")
        }
        let fields = HeaderParameters.split(disposition)
        guard fields.value.lowercased() == "form-data", let name = fields.parameters["name"], !name.isEmpty else {
            throw .malformed("Content-Disposition is not form-data with a name")
        }
        let start = content.readerIndex + range.lowerBound
        guard let slice = content.getSlice(at: start, length: range.count) else {
            throw .malformed("part outside the body")  // unreachable: range lies within the body
        }
        return MultipartFormData.Part(
            name: name, filename: fields.parameters["filename"],
            contentType: headers.first(where: { $0.0 == "content-type" })?.1, body: slice)
    }

    /// RFC 2046 `bchars`: digits, letters and `'()+_,-./:=? `.
    private static func isBoundaryByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "A")...UInt8(ascii: "Z"):
            true
        default: Array("'()+_,-./:=? ".utf8).contains(byte)
        }
    }

    /// First index of `needle` in `haystack` at or after `start`.
    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>, from start: Int) -> Int? {
        guard let first = needle.first, haystack.endIndex - needle.count >= start else { return nil }
        var i = start
        let last = haystack.endIndex - needle.count
        while i <= last {
            if haystack[i] == first {
                var j = 1
                while j < needle.count, haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
