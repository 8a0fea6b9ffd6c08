package import APKModel
import APKSupport
package import Foundation

/// Where an issuer's verification keys come from: the built-in issuer's store (``SigningKeyManager``) or a remote
/// JWKS (``RemoteJWKS``).
package protocol IssuerKeySource: Sendable {
    /// Keys whose `kid` is `kid` (every key when nil); a source may refresh once when `kid` is unknown.
    /// Throws only when the keys cannot be read at all right now (the built-in issuer's store is down); the error
    /// is the source's own, so that callers can tell an outage from a bad token.
    func keys(kid: String?) async throws -> [VerificationKey]
}

/// A token whose signature, issuer and validity period have been checked.
package struct VerifiedToken: Sendable {
    package var issuer: String
    package var claims: JSONObject

    package init(issuer: String, claims: JSONObject) {
        self.issuer = issuer
        self.claims = claims
    }

    /// `sub`.
    package var subject: String { claims["sub"]?.stringValue ?? "" }

    /// The `scope` claim: a space-separated string or an array of strings (`scp` as a fallback).
    package var scopes: [String] {
        for name in ["scope", "scp"] where claims[name] != nil && claims[name] != .null {
            return scopes(fromClaim: name)
        }
        return []
    }

    /// The scopes in one claim: a space-delimited string or an array of strings.
    package func scopes(fromClaim name: String) -> [String] {
        switch claims[name] {
        case .string(let text): text.split(separator: " ").map(String.init)
        case .array(let items): items.compactMap(\.stringValue)
        default: []
        }
    }

    /// The `organization` claim, else `default` (contract §3.1).
    package var organization: String {
        guard let value = claims["organization"]?.stringValue, !value.isEmpty else { return "default" }
        return value
    }
}

/// Verifies caller bearer tokens against the configured issuers: signature (RS256 or ES256 only), `iss`,
/// `exp` (required), `nbf` and `iat` with a small leeway, and that the token is not an internal key.
package struct TokenVerifier: Sendable {
    /// Audience of internal keys minted by generate-key; such tokens are API keys, never caller credentials.
    package static let internalKeyAudience = "apk-internal-key"

    private let issuers: [String: any IssuerKeySource]
    private let leeway: Double
    private let now: @Sendable () -> Date

    /// `issuers` maps each trusted `iss` value to its key source.
    package init(
        issuers: [String: any IssuerKeySource], leeway: Duration = .seconds(30),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.issuers = issuers
        self.leeway = leeway.seconds
        self.now = now
    }

    /// The verified token; throws ``TokenRejection``, or the key source's error when its keys cannot be read.
    package func verify(_ token: String) async throws -> VerifiedToken {
        let jws = try CompactJWS.parse(token)
        guard VerificationKey.supportedAlgorithms.contains(jws.algorithm) else {
            throw TokenRejection.unsupportedAlgorithm(jws.algorithm)
        }
        guard let issuer = jws.string("iss") else { throw TokenRejection.missingClaim("iss") }
        guard let source = issuers[issuer] else { throw TokenRejection.unknownIssuer }
        let candidates = try await source.keys(kid: jws.keyID)
        let audiences = try Self.check(jws, candidates: candidates, now: now().timeIntervalSince1970, leeway: leeway)
        guard !audiences.contains(Self.internalKeyAudience) else { throw TokenRejection.notAnAccessToken }
        return VerifiedToken(issuer: issuer, claims: jws.claims)
    }

    /// The synchronous core every verifier shares (the deployer's caller tokens, the gateway's auth evaluator):
    /// algorithm RS256/ES256, a signature by one of `candidates` (keys of the token's issuer whose `kid` matched;
    /// at most 8 are tried), `exp` required and in the future, `nbf`/`iat` not in the future (each with `leeway`
    /// seconds; `iat` only with `checksIssuedAt` — Envoy's `jwt_authn` ignores it, so the gateway's evaluator does
    /// too), a non-empty `sub`. Returns the token's audiences (`aud` as a string or an array).
    package static func check(
        _ jws: CompactJWS, candidates: [VerificationKey], now current: Double, leeway: Double,
        checksIssuedAt: Bool = true
    ) throws(TokenRejection) -> [String] {
        let algorithm = jws.algorithm
        guard VerificationKey.supportedAlgorithms.contains(algorithm) else { throw .unsupportedAlgorithm(algorithm) }
        let usable = candidates.filter { $0.algorithm == algorithm }
        guard !usable.isEmpty else { throw .unknownKey }
        guard usable.prefix(8).contains(where: { $0.verify(signature: jws.signature, signingInput: jws.signingInput) })
        else { throw .badSignature }
        guard let expiry = jws.numericDate("exp") else { throw .missingClaim("exp") }
        guard current < expiry + leeway else { throw .expired }
        if jws.claims["nbf"] != nil {
            guard let notBefore = jws.numericDate("nbf") else { throw .missingClaim("nbf") }
            guard notBefore <= current + leeway else { throw .notYetValid }
        }
        if checksIssuedAt, let issuedAt = jws.numericDate("iat"), issuedAt > current + leeway { throw .notYetValid }
        guard let subject = jws.string("sub"), !subject.isEmpty else { throw .missingClaim("sub") }
        return switch jws.claims["aud"] {
        case .string(let value): [value]
        case .array(let values): values.compactMap(\.stringValue)
        default: []
        }
    }
}
