package import APKModel
import Crypto
package import CryptoExtras
import Foundation

/// A public key that verifies JWT signatures: RS256 (RSA ≥ 2048 bits) or ES256 (P-256). Nothing else is ever
/// accepted, so `alg: none` and HMAC-with-a-public-key confusion cannot happen.
package enum VerificationKey: Sendable {
    case rs256(_RSA.Signing.PublicKey)
    case es256(P256.Signing.PublicKey)

    /// The only algorithms a caller token may use.
    package static let supportedAlgorithms: Set<String> = ["RS256", "ES256"]

    /// The JWS `alg` this key verifies.
    package var algorithm: String {
        switch self {
        case .rs256: "RS256"
        case .es256: "ES256"
        }
    }

    /// True when `signature` is this key's signature over `signingInput`.
    package func verify(signature: [UInt8], signingInput: [UInt8]) -> Bool {
        let digest = SHA256.hash(data: signingInput)
        switch self {
        case .rs256(let key):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: .insecurePKCS1v1_5)
        case .es256(let key):
            guard signature.count == 64, let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
            else { return false }
            return key.isValidSignature(ecdsa, for: digest)
        }
    }

    /// A key from one JWK (RFC 7517/7518): `kty: RSA` with `n`/`e`, or `kty: EC`, `crv: P-256` with `x`/`y`.
    /// Nil for keys that are not signature keys of a supported type (such JWKS entries are skipped, not fatal).
    package init?(jwk: JSONObject) {
        if let use = jwk["use"]?.stringValue, use != "sig" { return nil }
        let alg = jwk["alg"]?.stringValue
        switch jwk["kty"]?.stringValue {
        case "RSA":
            guard alg == nil || alg == "RS256",
                let n = jwk["n"]?.stringValue.flatMap(Base64URL.decode),
                let e = jwk["e"]?.stringValue.flatMap(Base64URL.decode),
                let key = try? _RSA.Signing.PublicKey(n: n, e: e), key.keySizeInBits >= 2048
            else { return nil }
            self = .rs256(key)
        case "EC":
            guard alg == nil || alg == "ES256", jwk["crv"]?.stringValue == "P-256",
                let x = jwk["x"]?.stringValue.flatMap(Base64URL.decode),
                let y = jwk["y"]?.stringValue.flatMap(Base64URL.decode), x.count == 32, y.count == 32,
                let key = try? P256.Signing.PublicKey(rawRepresentation: x + y)
            else { return nil }
            self = .es256(key)
        default:
            return nil
        }
    }

    /// Every usable key of a JWKS document `{"keys":[…]}`, with its `kid` (nil when the JWK has none).
    package static func keys(fromJWKS bytes: [UInt8]) -> [(kid: String?, key: VerificationKey)]? {
        guard let document = try? JSONParser.parse(bytes, maxDepth: 16), let keys = document["keys"]?.arrayValue
        else { return nil }
        return keys.compactMap { entry in
            guard let jwk = entry.objectValue, let key = VerificationKey(jwk: jwk) else { return nil }
            return (jwk["kid"]?.stringValue, key)
        }
    }
}

extension _RSA.Signing.PublicKey {
    /// The public JWK of an RS256 signing key: `{"kty","kid","use","alg","n","e"}`.
    package func jwk(kid: String) -> JSONValue? {
        guard let primitives = try? getKeyPrimitives() else { return nil }
        return [
            "kty": "RSA", "kid": .string(kid), "use": "sig", "alg": "RS256",
            "n": .string(Base64URL.encode(Self.minimal(primitives.modulus))),
            "e": .string(Base64URL.encode(Self.minimal(primitives.publicExponent))),
        ]
    }

    /// RFC 7638 thumbprint (base64url SHA-256 of `{"e","kty","n"}`), used as the `kid` of generated keys.
    package var thumbprint: String? {
        guard let primitives = try? getKeyPrimitives() else { return nil }
        let canonical = #"{"e":"\#(Base64URL.encode(Self.minimal(primitives.publicExponent)))","kty":"RSA","n":"\#(Base64URL.encode(Self.minimal(primitives.modulus)))"}"#
        return Base64URL.encode(SHA256.hash(data: Array(canonical.utf8)))
    }

    /// Big-endian unsigned integer without leading zero bytes (RFC 7518 §6.3.1).
    private static func minimal(_ data: Data) -> [UInt8] {
        let bytes = Array(data.drop { $0 == 0 })
        return bytes.isEmpty ? [0] : bytes
    }
}
