import Crypto
package import Foundation

/// Hex digests used in resource names (§5.2: `sha1(x)` is lower-case hex SHA-1).
package enum Hashing {
    package static func sha1(_ text: String) -> String {
        Insecure.SHA1.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    package static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
