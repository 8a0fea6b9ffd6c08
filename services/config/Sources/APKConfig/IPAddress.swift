#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as a number, for the fetcher's address checks (``AddressPolicy``).
package enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt128)

    /// Parses an address literal the way a URL host may spell it: IPv6 (brackets optional, no zone id) or IPv4 in
    /// every form `inet_aton` accepts (1–4 parts, each decimal, octal with a leading `0`, or hex with `0x`; the last
    /// part fills the remaining bytes: `127.1`, `2130706433`, `0x7f.0.0.1`, `0177.0.0.1`), with one trailing dot.
    /// Nil for anything else.
    package init?(literal text: String) {
        var text = Substring(text)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        if text.contains(":") {
            guard let value = Self.parseV6(String(text)) else { return nil }
            self = .v6(value)
        } else {
            guard let value = Self.parseV4(text) else { return nil }
            self = .v4(value)
        }
    }

    /// True when a host name is meant as an IPv4 number (its last label is digits, or `0x` and hex digits), as the
    /// WHATWG URL standard decides: such a host is an address or invalid, never a DNS name.
    package static func looksNumeric(_ host: String) -> Bool {
        var labels = host.split(separator: ".", omittingEmptySubsequences: false)
        if labels.count > 1, labels.last?.isEmpty == true { labels.removeLast() }
        guard let last = labels.last, !last.isEmpty else { return false }
        if last.allSatisfy({ $0.isASCII && $0.isNumber }) { return true }
        let lower = last.lowercased()
        return lower.hasPrefix("0x") && lower.dropFirst(2).allSatisfy(\.isHexDigit)
    }

    private static func parseV4(_ text: Substring) -> UInt32? {
        var parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count > 1, parts.last?.isEmpty == true { parts.removeLast() }
        guard (1...4).contains(parts.count) else { return nil }
        var numbers: [UInt64] = []
        for part in parts {
            guard let number = parseV4Part(part) else { return nil }
            numbers.append(number)
        }
        // Every part but the last is one byte; the last fills the remaining bytes.
        let leading = numbers.dropLast()
        guard leading.allSatisfy({ $0 <= 0xFF }), let last = numbers.last else { return nil }
        let lastBits = UInt64(8 * (4 - leading.count))
        guard last < (UInt64(1) << lastBits) else { return nil }
        var value: UInt64 = 0
        for (index, byte) in leading.enumerated() { value |= byte << UInt64(24 - 8 * index) }
        return UInt32(value | last)
    }

    /// One `inet_aton` part: `0x…` hex (empty digits mean 0), `0…` octal, else decimal; at most 32 bits.
    private static func parseV4Part(_ part: Substring) -> UInt64? {
        guard !part.isEmpty, part.count <= 40 else { return nil }
        let lower = part.lowercased()
        let (digits, radix): (Substring, Int) =
            if lower.hasPrefix("0x") { (Substring(lower.dropFirst(2)), 16) }
            else if lower.count > 1, lower.hasPrefix("0") { (Substring(lower.dropFirst()), 8) }
            else { (Substring(lower), 10) }
        if digits.isEmpty { return radix == 16 ? 0 : nil }
        guard digits.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }  // no signs, no spaces
        guard let value = UInt64(digits, radix: radix), value <= UInt64(UInt32.max) else { return nil }
        return value
    }

    private static func parseV6(_ text: String) -> UInt128? {
        var storage = in6_addr()
        guard inet_pton(AF_INET6, text, &storage) == 1 else { return nil }
        return withUnsafeBytes(of: &storage) { Self.v6Value($0) }
    }

    /// The address of 16 network-order bytes.
    package static func v6Value(_ bytes: UnsafeRawBufferPointer) -> UInt128 {
        bytes.prefix(16).reduce(UInt128(0)) { ($0 << 8) | UInt128($1) }
    }

    /// For an IPv6 address that carries an IPv4 address a connection would reach (IPv4-mapped `::ffff:0:0/96`,
    /// NAT64 `64:ff9b::/96`, 6to4 `2002::/16`), that IPv4 address.
    package var embeddedV4: UInt32? {
        guard case .v6(let value) = self else { return nil }
        if value >> 32 == 0xFFFF { return UInt32(truncatingIfNeeded: value) }  // ::ffff:a.b.c.d
        if value >> 32 == UInt128(0x0064_ff9b) << 64 { return UInt32(truncatingIfNeeded: value) }  // 64:ff9b::a.b.c.d
        if value >> 112 == 0x2002 { return UInt32(truncatingIfNeeded: value >> 80) }  // 2002:aabb:ccdd::/48
        return nil
    }

    /// The canonical text (`127.0.0.1`, `::1`), usable as a connection target.
    package var description: String {
        switch self {
        case .v4(let value):
            return (0..<4).map { String((value >> UInt32(24 - 8 * $0)) & 0xFF) }.joined(separator: ".")
        case .v6(let value):
            var storage = in6_addr()
            withUnsafeMutableBytes(of: &storage) { bytes in
                for index in 0..<16 { bytes[index] = UInt8(truncatingIfNeeded: value >> UInt128(8 * (15 - index))) }
            }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            guard inet_ntop(AF_INET6, &storage, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}

/// An address range in CIDR notation (`10.0.0.0/8`, `fc00::/7`; a bare address is a single-address range).
package struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    package var address: IPAddress
    package var prefix: Int

    package init(_ address: IPAddress, prefix: Int) {
        self.address = address
        self.prefix = prefix
    }

    /// Parses `address/prefix` or a bare address; IPv4 must be a decimal dotted quad (`127.0.0.1`, not `0x7f.1`).
    package init?(cidr text: String) {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(pieces.count), let first = pieces.first else { return nil }
        let addressText = String(first)
        let dottedQuad = addressText.split(separator: ".", omittingEmptySubsequences: false)
            .map { part in
                (part == "0" || !part.hasPrefix("0")) && (1...3).contains(part.count)
                    && part.allSatisfy { $0.isASCII && $0.isNumber }
            }
        guard addressText.contains(":") || dottedQuad == [true, true, true, true],
            let address = IPAddress(literal: addressText)
        else { return nil }
        let width = if case .v4 = address { 32 } else { 128 }
        if pieces.count == 2 {
            guard let prefix = Int(pieces[1]), (0...width).contains(prefix), pieces[1].allSatisfy(\.isNumber) else {
                return nil
            }
            self.init(address, prefix: prefix)
        } else {
            self.init(address, prefix: width)
        }
    }

    package func contains(_ candidate: IPAddress) -> Bool {
        switch (address, candidate) {
        case (.v4(let network), .v4(let value)):
            guard prefix > 0 else { return true }
            let shift = UInt32(32 - prefix)
            return prefix >= 32 ? network == value : network >> shift == value >> shift
        case (.v6(let network), .v6(let value)):
            guard prefix > 0 else { return true }
            let shift = UInt128(128 - prefix)
            return prefix >= 128 ? network == value : network >> shift == value >> shift
        default:
            return false
        }
    }

    package var description: String { "\(address)/\(prefix)" }
}
