import APKSupport
/// A bounded `application/x-www-form-urlencoded` parser (WHATWG URL §5.1) for token requests.
package enum FormURLEncoded {
    /// Why a body is not usable form data.
    package struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        package var description: String
    }

    /// The fields in order: `+` is a space, `%XX` a byte; the result must be UTF-8. At most `maxFields` fields.
    package static func parse(_ bytes: some Collection<UInt8>, maxFields: Int = 32) throws(Failure) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            guard fields.count < maxFields else { throw Failure(description: "more than \(maxFields) form fields") }
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let name = try decode(pair[..<(equals ?? pair.endIndex)])
            let value = try equals.map { index throws(Failure) in try decode(pair[pair.index(after: index)...]) } ?? ""
            fields.append((name, value))
        }
        return fields
    }

    private static func decode(_ bytes: some Collection<UInt8>) throws(Failure) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(Hex.value(of:)), let low = iterator.next().flatMap(Hex.value(of:)) else {
                    throw Failure(description: "invalid percent-encoding")
                }
                out.append(high << 4 | low)
            default:
                out.append(byte)
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw Failure(description: "form data is not UTF-8") }
        return text
    }
}
