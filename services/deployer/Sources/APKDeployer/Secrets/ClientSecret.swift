import Crypto
import Foundation

/// Hashing of OAuth client secrets: stored as `sha256$<salt-hex>$<hex(sha256(salt || secret))>`, compared in
/// constant time. The secret itself is never stored or logged.
package enum ClientSecret {
    /// A new hash of `secret` with a random 16-byte salt (or the given one, for tests).
    package static func hash(_ secret: String, salt: [UInt8]? = nil) -> String {
        let salt = salt ?? (0..<16).map { _ in UInt8.random(in: .min ... .max) }
        return "sha256$\(hex(salt))$\(hex(digest(salt: salt, secret: secret)))"
    }

    /// A new client secret: 32 random bytes (system CSPRNG), base64url without padding (43 characters, never `:`).
    package static func generate() -> String {
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// True when `secret` matches `stored`; false for any stored value that is not a well-formed hash.
    package static func verify(_ secret: String, against stored: String) -> Bool {
        let fields = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 3, fields[0] == "sha256", let salt = bytes(fromHex: fields[1]),
            let expected = bytes(fromHex: fields[2]), expected.count == 32
        else { return false }
        let actual = digest(salt: salt, secret: secret)
        var difference: UInt8 = 0
        for (a, b) in zip(actual, expected) { difference |= a ^ b }
        return difference == 0
    }

    private static func digest(salt: [UInt8], secret: String) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: salt)
        hasher.update(data: Array(secret.utf8))
        return Array(hasher.finalize())
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    private static func bytes(fromHex text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var i = 0
        while i < digits.count {
            guard let high = nibble(digits[i]), let low = nibble(digits[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
