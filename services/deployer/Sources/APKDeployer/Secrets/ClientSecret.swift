import APKSupport
import Crypto
import CryptoExtras
import Foundation

/// Hashing of OAuth client secrets (pure; ``ClientSecretVerifier`` runs it off the event loops, bounded and cached).
///
/// Stored form: `pbkdf2-sha256$<iterations>$<salt-base64>$<hash-base64>` — PBKDF2-HMAC-SHA256 (RFC 8018) with a
/// random 16-byte salt and a 32-byte output; the parameters travel with the hash, so the iteration count can be raised
/// later. The legacy form `sha256$<salt-hex>$<hex(sha256(salt ‖ secret))>` (one round, older databases) still
/// verifies and is reported as needing an upgrade. Comparison is constant-time. The secret is never stored or logged.
package enum ClientSecret {
    /// OWASP's 2023+ recommendation for PBKDF2-HMAC-SHA256, and the least the configuration accepts.
    package static let minimumIterations = 600_000
    /// Stored hashes claiming more iterations than this are refused (a poisoned row must not pin a CPU for minutes).
    package static let maximumIterations = 10_000_000
    static let prefix = "pbkdf2-sha256"
    static let legacyPrefix = "sha256"
    static let hashBytes = 32

    /// The outcome of a verification.
    package enum Verification: Sendable, Hashable {
        /// The secret does not match (or the stored value is not a well-formed hash).
        case mismatch
        /// The secret matches; `needsUpgrade` when the stored hash is legacy or has fewer iterations than wanted.
        case match(needsUpgrade: Bool)
    }

    /// A stored hash, parsed.
    enum Stored: Equatable {
        case pbkdf2(iterations: Int, salt: [UInt8], hash: [UInt8])
        case legacy(salt: [UInt8], hash: [UInt8])

        init?(_ text: String) {
            let fields = text.split(separator: "$", omittingEmptySubsequences: false)
            if fields.count == 4, fields[0] == prefix, let iterations = Int(fields[1]),
                (1...maximumIterations).contains(iterations), fields[1].first != "0",
                let salt = Data(base64Encoded: String(fields[2])), !salt.isEmpty,
                let hash = Data(base64Encoded: String(fields[3])), hash.count == hashBytes
            {
                self = .pbkdf2(iterations: iterations, salt: Array(salt), hash: Array(hash))
            } else if fields.count == 3, fields[0] == legacyPrefix, let salt = Hex.bytes(fields[1]),
                let hash = Hex.bytes(fields[2]), hash.count == hashBytes
            {
                self = .legacy(salt: salt, hash: hash)
            } else {
                return nil
            }
        }
    }

    /// A new PBKDF2 hash of `secret` with `iterations` rounds and a random 16-byte salt (or the given one, for tests).
    /// Costs `iterations` HMAC computations: call it off the event loops (``ClientSecretVerifier``).
    package static func hash(_ secret: String, iterations: Int, salt: [UInt8]? = nil) -> String {
        let salt = salt ?? randomBytes(16)
        let derived = pbkdf2(password: Array(secret.utf8), salt: salt, iterations: iterations) ?? []
        return "\(prefix)$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    /// Verifies `secret` against `stored`; a match needs an upgrade when `stored` is the legacy form or has fewer than
    /// `wantedIterations`. Constant-time in the secret.
    package static func verify(_ secret: String, against stored: String, wantedIterations: Int) -> Verification {
        switch Stored(stored) {
        case .none:
            return .mismatch
        case .pbkdf2(let iterations, let salt, let expected):
            guard let actual = pbkdf2(password: Array(secret.utf8), salt: salt, iterations: iterations),
                constantTimeEqual(actual, expected)
            else { return .mismatch }
            return .match(needsUpgrade: iterations < wantedIterations)
        case .legacy(let salt, let expected):
            var hasher = SHA256()
            hasher.update(data: salt)
            hasher.update(data: Array(secret.utf8))
            return constantTimeEqual(Array(hasher.finalize()), expected) ? .match(needsUpgrade: true) : .mismatch
        }
    }

    /// The legacy one-round form `sha256$<salt-hex>$<hex(sha256(salt ‖ secret))>`, as older releases stored it (tests
    /// of the upgrade path only; never written by the deployer).
    package static func legacyHash(_ secret: String, salt: [UInt8]? = nil) -> String {
        let salt = salt ?? randomBytes(16)
        var hasher = SHA256()
        hasher.update(data: salt)
        hasher.update(data: Array(secret.utf8))
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        return "\(legacyPrefix)$\(hex(salt))$\(hex(Array(hasher.finalize())))"
    }

    /// True when `stored` is a PBKDF2 hash (not legacy, not malformed).
    package static func isPBKDF2(_ stored: String) -> Bool {
        if case .pbkdf2 = Stored(stored) { true } else { false }
    }

    /// The iteration count of a PBKDF2 hash; nil for anything else.
    package static func iterations(of stored: String) -> Int? {
        if case .pbkdf2(let iterations, _, _) = Stored(stored) { iterations } else { nil }
    }

    /// PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) through swift-crypto's BoringSSL backend; nil for an empty password or salt
    /// (refused: the backend needs non-empty buffers) or a backend failure.
    package static func pbkdf2(password: [UInt8], salt: [UInt8], iterations: Int, length: Int = hashBytes) -> [UInt8]? {
        guard !password.isEmpty, !salt.isEmpty, iterations >= 1, length >= 1 else { return nil }
        guard let key = try? KDF.Insecure.PBKDF2.deriveKey(
            from: password, salt: salt, using: .sha256, outputByteCount: length, unsafeUncheckedRounds: iterations)
        else { return nil }
        return key.withUnsafeBytes { Array($0) }
    }

    /// A new client secret: 32 random bytes (system CSPRNG), base64url without padding (43 characters, never `:`).
    package static func generate() -> String {
        Data(randomBytes(32)).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Equal length and bytes, without an early exit on the first difference.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
