import APKAuth
package import APKAuthPlan
import APKModel
import Crypto
package import CryptoExtras
import Foundation
import Synchronization

/// Signs the backend JWTs of contract §7.7 (RS256, `kid` = base64url(SHA-256 of the public key's SubjectPublicKeyInfo))
/// and publishes the public key as a JWKS (`GET /jwks` on the enforcer's HTTP port). A signed token is reused for the
/// same credential, API and key type until 30 s before it expires (bounded cache), so a request with a known
/// credential costs no signature.
package final class BackendJWTSigner: Sendable {
    private let signer: RS256Signer
    /// `{"keys":[…]}` as served.
    package let jwks: String
    /// What a cached token was issued for: compared in full, so two callers never share a token by a hash collision.
    private struct Issued: Hashable {
        var apiID: String
        var plan: BackendJWTPlan
        var keyType: KeyType
        var identity: Identity
    }

    /// Why a backend JWT could not be issued.
    package struct Failure: Error, CustomStringConvertible {
        package var description: String
        package init(_ description: String) { self.description = description }
    }

    private let cache = Mutex<[Issued: (token: String, refreshAt: Int)]>([:])
    private let cacheLimit: Int

    /// `privateKey`: the signing key (one per deployment: every replica must sign with the same key).
    package init(privateKey: _RSA.Signing.PrivateKey, cacheLimit: Int = 10_000) throws {
        let kid = Base64URL.encode(SHA256.hash(data: privateKey.publicKey.derRepresentation))
        signer = RS256Signer(keyID: kid, privateKey: privateKey)
        guard let jwk = privateKey.publicKey.jwk(kid: kid) else {
            throw Failure("the backend-JWT key's public part cannot be written as a JWK")
        }
        jwks = DocumentWriter.json(["keys": .array([jwk])])
        self.cacheLimit = max(1, cacheLimit)
    }

    /// The key id published in the JWKS.
    package var keyID: String { signer.keyID }

    /// The header value for `identity` on a route of `api` and `keyType`, at `now` (seconds since 1970).
    package func token(plan: BackendJWTPlan, apiID: String, identity: Identity, keyType: KeyType, now: Int) throws -> String {
        try issued(plan: plan, apiID: apiID, identity: identity, keyType: keyType, now: now).token
    }

    /// The token and the moment (seconds since 1970) from which a new one is issued instead: a caller may reuse the
    /// token until then (it is valid 30 s longer).
    package func issued(
        plan: BackendJWTPlan, apiID: String, identity: Identity, keyType: KeyType, now: Int
    ) throws -> (token: String, refreshAt: Int) {
        // The plan too: a redeployed API with other claims or another encoding gets a new token.
        let key = Issued(apiID: apiID, plan: plan, keyType: keyType, identity: identity)
        if let cached = cache.withLock({ $0[key] }), now < cached.refreshAt { return cached }
        let claims = plan.claims(identity: identity, keyType: keyType, now: now)
        var token: String
        if plan.signed {
            token = try signer.sign(claims)
        } else {
            let header: JSONValue = ["alg": "none", "typ": "JWT"]
            token = Base64URL.encode(Array(DocumentWriter.json(header).utf8)) + "."
                + Base64URL.encode(Array(DocumentWriter.json(.object(claims)).utf8)) + "."
        }
        if plan.encoding == .base64 { token = Self.standardBase64Segments(token) }
        let refreshAt = now + max(1, plan.ttlSeconds - 30)
        cache.withLock { cache in
            if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[key] = (token, refreshAt)
        }
        return (token, refreshAt)
    }

    /// Each segment re-encoded from base64url to standard base64 with padding (the reference's `Base64` encoding).
    static func standardBase64Segments(_ token: String) -> String {
        token.split(separator: ".", omittingEmptySubsequences: false).map { segment in
            Base64URL.decode(segment).map { Data($0).base64EncodedString() } ?? String(segment)
        }.joined(separator: ".")
    }
}
