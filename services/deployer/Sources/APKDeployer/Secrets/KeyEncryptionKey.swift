import Crypto
import Foundation

/// A key-encryption key (KEK): 32 bytes for AES-256-GCM, given base64-encoded (`SIGNING_KEY_KEK[_FILE]`). Its ``id``
/// (hex of the first 8 bytes of SHA-256 of the key) is stored next to every ciphertext it made, so a KEK can be
/// rotated: the id says which key opens a value. The key never appears in a description, a log or an error.
package struct KeyEncryptionKey: Sendable, CustomStringConvertible {
    /// Why a value is not a usable KEK (never quoting the value).
    package struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        package var reason: String
        package var description: String { reason }
    }

    package let id: String
    let key: SymmetricKey

    /// A KEK from its base64 text (surrounding whitespace ignored; standard or URL alphabet); exactly 32 bytes.
    package init(base64 text: String) throws(Invalid) {
        var normalized = text.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        normalized += String(repeating: "=", count: (4 - normalized.count % 4) % 4)
        guard let bytes = Data(base64Encoded: normalized) else { throw Invalid(reason: "not base64") }
        guard bytes.count == 32 else { throw Invalid(reason: "must be 32 bytes (base64 of 32 random bytes), found \(bytes.count)") }
        self.init(bytes: Array(bytes))
    }

    /// A KEK from 32 raw bytes.
    package init(bytes: [UInt8]) {
        key = SymmetricKey(data: bytes)
        id = SHA256.hash(data: bytes).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// A random KEK (tests).
    package static func random() -> KeyEncryptionKey {
        KeyEncryptionKey(bytes: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    /// The base64 text of the key (tests and key generation only; never log it).
    package var base64: String { key.withUnsafeBytes { Data($0).base64EncodedString() } }

    package var description: String { "KEK \(id)" }
}
