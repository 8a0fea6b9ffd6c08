package import APKModel

/// The JWT the gateway signs for an API's backend (contract §7.7): which header carries it, how long it lives and
/// what it says about the API; the enforcer signs it with the claims of the credential that was accepted.
package struct BackendJWTPlan: Sendable, Hashable, Codable {
    /// The request header (lower case), `x-jwt-assertion` by default.
    package var header: String
    /// Segments in base64url (a standard JWS) or, for `Base64`, standard base64 as the reference's backends expect.
    package var encoding: Encoding
    /// `signingAlgorithm: NONE` sends an unsigned token (`alg: none`); anything else is RS256.
    package var signed: Bool
    package var ttlSeconds: Int
    /// Sorted by name; values are strings (the reference sends every custom claim as a string).
    package var customClaims: [Claim]
    package var apiName: String
    /// The API's base path including its version (`/orders/1.0.0`).
    package var apiContext: String
    package var apiVersion: String

    package enum Encoding: String, Sendable, Hashable, Codable {
        case base64, base64url
    }

    package struct Claim: Sendable, Hashable, Codable {
        package var name: String
        package var value: String
    }

    /// The claims of the credential that are never copied (contract §7.7).
    static let excludedClaims: Set<String> = [
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "application", "tierInfo", "subscribedAPIs", "aut",
    ]
    static let claimPrefix = "http://wso2.org/claims/"

    /// From a `BackendJWT` spec; throws when it cannot be honoured.
    package init(
        spec: BackendJWTSpec, apiName: String, apiContext: String, apiVersion: String
    ) throws(AuthPlanError) {
        let header = spec.header.isEmpty ? "x-jwt-assertion" : spec.header.lowercased()
        guard AuthPlanBuilder.isHeaderName(header), !header.hasPrefix("x-apk-") else {
            throw AuthPlanError("backend JWT header \"\(spec.header)\" is not a header name the gateway may set")
        }
        switch spec.encoding.lowercased() {
        case "base64": encoding = .base64
        case "base64url": encoding = .base64url
        default: throw AuthPlanError("backend JWT encoding \"\(spec.encoding)\" is not Base64 or Base64Url")
        }
        guard (1...86_400).contains(spec.tokenTTL) else {
            throw AuthPlanError("backend JWT tokenTTL \(spec.tokenTTL) is not 1…86400 seconds")
        }
        var claims: [Claim] = []
        for claim in spec.customClaims ?? [] where !claim.claim.isEmpty {
            claims.removeAll { $0.name == claim.claim }
            claims.append(Claim(name: claim.claim, value: claim.value))
        }
        self.header = header
        self.signed = spec.signingAlgorithm.uppercased() != "NONE"
        self.ttlSeconds = spec.tokenTTL
        self.customClaims = claims.sorted { $0.name < $1.name }
        self.apiName = apiName
        self.apiContext = apiContext
        self.apiVersion = apiVersion
    }

    /// The claims of the backend JWT for `identity` on an API route of `keyType`, issued at `now` (seconds).
    package func claims(identity: Identity, keyType: KeyType, now: Int) -> JSONObject {
        var claims = JSONObject()
        claims["iss"] = .string("wso2.org/products/am")
        claims["iat"] = .int(now)
        claims["exp"] = .int(now + ttlSeconds)
        claims[Self.claimPrefix + "apiname"] = .string(apiName)
        claims[Self.claimPrefix + "apicontext"] = .string(apiContext)
        claims[Self.claimPrefix + "version"] = .string(apiVersion)
        claims[Self.claimPrefix + "keytype"] = .string(keyType.rawValue)
        claims["sub"] = .string(identity.subject)
        for (name, value) in identity.claims.sorted(by: { $0.key < $1.key }) where !Self.excludedClaims.contains(name) {
            if case .string = value, claims[name] == nil { claims[name] = value }
        }
        for claim in customClaims { claims[claim.name] = .string(claim.value) }
        return claims
    }
}
