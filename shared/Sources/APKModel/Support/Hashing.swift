import APKSupport
import Crypto
package import Foundation

/// Hex digests used in resource names (§5.2: `sha1(x)` is lower-case hex SHA-1).
package enum Hashing {
    package static func sha1(_ text: String) -> String {
        hex(Insecure.SHA1.hash(data: Data(text.utf8)))
    }

    package static func sha256(_ data: Data) -> String {
        hex(SHA256.hash(data: data))
    }

    /// Lower-case hex of `bytes` (of a digest, or of its first bytes for a short identifier).
    package static func hex(_ bytes: some Sequence<UInt8>) -> String {
        Hex.lowercase(bytes)
    }
}
