import Crypto
import Foundation

/// Encryption at rest of the signing keys' private halves (the store's `privateKeyPEM`).
///
/// Stored form: `apk-sealed:v1:aes-256-gcm:<kek-id>:<base64(nonce ‖ ciphertext ‖ tag)>` — AES-256-GCM under the
/// ``current`` KEK with a random 96-bit nonce, the key's `kid` as additional authenticated data (a sealed value copied
/// to another row does not open). Values sealed by one of the ``previous`` KEKs open too and are reported as needing
/// re-sealing; plaintext PEM (older databases) opens only to be sealed at start-up. Without a current KEK
/// (``allowPlaintext``, development only) new keys are stored as plaintext PEM.
package struct SigningKeySealer: Sendable {
    /// Why a stored private key cannot be opened. Never carries key material: kid and KEK id only.
    package struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        package var kid: String
        package var reason: String
        package var description: String { "the private key of signing key \(kid) cannot be decrypted: \(reason)" }
    }

    /// A stored value opened.
    package struct Opened: Sendable {
        package var pem: String
        /// True when the value is not sealed by the current KEK (plaintext, or a previous KEK).
        package var needsResealing: Bool
    }

    static let prefix = "apk-sealed:v1:aes-256-gcm:"

    /// Seals new keys and opens values it sealed; nil: plaintext (development only).
    package var current: KeyEncryptionKey?
    /// Open values they sealed (KEK rotation).
    package var previous: [KeyEncryptionKey]

    package init(current: KeyEncryptionKey?, previous: [KeyEncryptionKey] = []) {
        self.current = current
        self.previous = previous.filter { $0.id != current?.id }
    }

    /// Development only: no KEK, private keys stored as plaintext PEM.
    package static let plaintext = SigningKeySealer(current: nil)

    /// True when `stored` is a sealed value (not plaintext).
    package static func isSealed(_ stored: String) -> Bool { stored.hasPrefix(prefix) }

    /// The KEK id a sealed value names; nil for plaintext or a malformed value.
    package static func kekID(of stored: String) -> String? {
        guard isSealed(stored) else { return nil }
        let id = stored.dropFirst(prefix.count).prefix { $0 != ":" }
        return id.isEmpty ? nil : String(id)
    }

    /// The stored form of `pem` for key `kid`: sealed by the current KEK, or `pem` itself without one.
    package func seal(_ pem: String, kid: String) throws -> String {
        guard let current else { return pem }
        let box = try AES.GCM.seal(Array(pem.utf8), using: current.key, authenticating: Self.aad(kid: kid))
        guard let combined = box.combined else { throw Failure(kid: kid, reason: "encryption failed") }
        return "\(Self.prefix)\(current.id):\(combined.base64EncodedString())"
    }

    /// Opens a stored value of key `kid`.
    package func open(_ stored: String, kid: String) throws(Failure) -> Opened {
        guard Self.isSealed(stored) else {
            guard stored.hasPrefix("-----BEGIN ") else { throw Failure(kid: kid, reason: "neither sealed nor PEM") }
            return Opened(pem: stored, needsResealing: current != nil)
        }
        let rest = stored.dropFirst(Self.prefix.count)
        let parts = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let combined = Data(base64Encoded: String(parts[1])) else {
            throw Failure(kid: kid, reason: "malformed sealed value")
        }
        let id = String(parts[0])
        guard let kek = ([current].compactMap { $0 } + previous).first(where: { $0.id == id }) else {
            throw Failure(
                kid: kid,
                reason: current == nil
                    ? "it is sealed by KEK \(id) and no KEK is configured (SIGNING_KEY_KEK or SIGNING_KEY_KEK_FILE)"
                    : "it is sealed by KEK \(id), which is neither the current KEK nor SIGNING_KEY_KEK_PREVIOUS")
        }
        guard let box = try? AES.GCM.SealedBox(combined: combined),
            let plain = try? AES.GCM.open(box, using: kek.key, authenticating: Self.aad(kid: kid)),
            let pem = String(validating: Array(plain), as: UTF8.self)
        else {
            throw Failure(kid: kid, reason: "authentication failed with KEK \(id) (wrong key or tampered value)")
        }
        return Opened(pem: pem, needsResealing: kek.id != current?.id)
    }

    private static func aad(kid: String) -> [UInt8] { Array("apk-signing-key:\(kid)".utf8) }
}
