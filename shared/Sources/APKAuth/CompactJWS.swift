package import APKModel
import Crypto
package import CryptoExtras
import Foundation

/// A JWT in JWS compact serialization (`header.payload.signature`), split and decoded but not yet verified.
package struct CompactJWS: Sendable {
    /// Largest token accepted, in bytes (a JWT with a few claims is well under 2 KiB).
    package static let maxBytes = 16 * 1024

    package var header: JSONObject
    package var claims: JSONObject
    /// The ASCII bytes of `header.payload`, which the signature covers.
    package var signingInput: [UInt8]
    package var signature: [UInt8]

    /// `alg` of the header.
    package var algorithm: String { header["alg"]?.stringValue ?? "" }
    /// `kid` of the header, when present.
    package var keyID: String? { header["kid"]?.stringValue }

    /// Splits and decodes a token; throws ``TokenRejection/malformed(_:)`` for anything that is not a compact JWS
    /// with JSON-object header and claims.
    package static func parse(_ token: String) throws(TokenRejection) -> CompactJWS {
        let bytes = Array(token.utf8)
        guard bytes.count <= maxBytes else { throw .malformed("longer than \(maxBytes) bytes") }
        let segments = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard segments.count == 3 else { throw .malformed("not three segments") }
        let header = try object(segments[0], name: "header")
        // RFC 7515 §4.1.11: we understand no critical header extension, so any `crit` makes the token unusable.
        guard header["crit"] == nil else { throw .malformed("critical header extensions are not supported") }
        let claims = try object(segments[1], name: "payload")
        guard let signature = Base64URL.decode(String(decoding: segments[2], as: UTF8.self)) else {
            throw .malformed("signature is not base64url")
        }
        let signingInput = Array(bytes[..<(segments[1].endIndex)])
        return CompactJWS(header: header, claims: claims, signingInput: signingInput, signature: signature)
    }

    private static func object(_ segment: ArraySlice<UInt8>, name: String) throws(TokenRejection) -> JSONObject {
        guard let decoded = Base64URL.decode(String(decoding: segment, as: UTF8.self)) else {
            throw .malformed("\(name) is not base64url")
        }
        guard let value = try? JSONParser.parse(decoded, maxDepth: 16), let object = value.objectValue else {
            throw .malformed("\(name) is not a JSON object")
        }
        return object
    }

    /// A numeric date claim (`exp`, `nbf`, `iat`) as seconds since 1970, accepting integers and decimals.
    package func numericDate(_ claim: String) -> Double? {
        switch claims[claim] {
        case .int(let value): Double(value)
        case .double(let value) where value.isFinite: value
        default: nil
        }
    }

    /// A string claim.
    package func string(_ claim: String) -> String? { claims[claim]?.stringValue }
}

/// Signs JWTs with an RSA private key (RS256, PKCS#1 v1.5 over SHA-256), header `{"alg","typ","kid"}`.
package struct RS256Signer: Sendable {
    package let keyID: String
    let privateKey: _RSA.Signing.PrivateKey

    package init(keyID: String, privateKey: _RSA.Signing.PrivateKey) {
        self.keyID = keyID
        self.privateKey = privateKey
    }

    /// The compact JWS of `claims` (keys in the given order).
    package func sign(_ claims: JSONObject) throws -> String {
        let header: JSONValue = ["alg": "RS256", "typ": "JWT", "kid": .string(keyID)]
        let input = Base64URL.encode(Array(DocumentWriter.json(header).utf8)) + "."
            + Base64URL.encode(Array(DocumentWriter.json(.object(claims)).utf8))
        let signature = try privateKey.signature(
            for: SHA256.hash(data: Array(input.utf8)), padding: .insecurePKCS1v1_5)
        return input + "." + Base64URL.encode(signature.rawRepresentation)
    }
}
