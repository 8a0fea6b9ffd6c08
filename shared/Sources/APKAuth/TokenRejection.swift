import Foundation

/// Why a bearer token was not accepted. Every case becomes the same 401 900903 on the wire (no oracle for
/// attackers); the case name is logged and counted (`apk_deployer_auth_failures_total{reason}`). Never carries the
/// token or any part of it.
package enum TokenRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// No `Authorization: Bearer` header.
    case missing
    /// Not three base64url segments of JSON, or too large.
    case malformed(String)
    /// `alg` other than RS256/ES256 (`none`, HS*, …).
    case unsupportedAlgorithm(String)
    /// `iss` names no configured issuer.
    case unknownIssuer
    /// No key of the issuer matches `kid` and `alg`.
    case unknownKey
    /// The signature does not verify.
    case badSignature
    /// `exp` is in the past (beyond the leeway).
    case expired
    /// `nbf` (or `iat`) is in the future (beyond the leeway).
    case notYetValid
    /// A required claim (`exp`, `iss`, `sub`) is absent or of the wrong type.
    case missingClaim(String)
    /// The token is an internal key (audience `apk-internal-key`), not an access token.
    case notAnAccessToken

    /// A low-cardinality label for metrics and logs.
    package var reason: String {
        switch self {
        case .missing: "missing"
        case .malformed: "malformed"
        case .unsupportedAlgorithm: "unsupported_algorithm"
        case .unknownIssuer: "unknown_issuer"
        case .unknownKey: "unknown_key"
        case .badSignature: "bad_signature"
        case .expired: "expired"
        case .notYetValid: "not_yet_valid"
        case .missingClaim: "missing_claim"
        case .notAnAccessToken: "not_an_access_token"
        }
    }

    package var description: String {
        switch self {
        case .malformed(let detail): "malformed token: \(detail)"
        case .unsupportedAlgorithm(let alg): "unsupported algorithm \(alg.prefix(16))"
        case .missingClaim(let claim): "missing or invalid claim \(claim)"
        default: reason.replacingOccurrences(of: "_", with: " ")
        }
    }
}
