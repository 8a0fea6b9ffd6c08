package import APKAuth
package import APKModel
import Crypto
package import CryptoExtras
import Foundation

/// Tokens for tests that check verification: valid ones, and the hostile inputs of issue 11, signed by a test key
/// around a chosen `now`. Shared by the evaluator's unit tests (fixed clock) and the router's differential test
/// (real clock, the key's JWKS served by apk-echo). RSA keys are slow to make: build one factory per process.
package struct TokenFactory: Sendable {
    package var issuer: String
    package var internalIssuer: String
    package var otherIssuer = "https://other.example/issuer"
    package let key: _RSA.Signing.PrivateKey
    package let otherKey: _RSA.Signing.PrivateKey
    package let keyID: String
    package var now: Double

    package init(issuer: String, internalIssuer: String, keyID: String = "k1", now: Double) throws {
        self.issuer = issuer
        self.internalIssuer = internalIssuer
        self.keyID = keyID
        self.now = now
        key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        otherKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
    }

    package var signer: RS256Signer { RS256Signer(keyID: keyID, privateKey: key) }

    /// The public half of ``key``, as a verifier holds it.
    package var verificationKey: VerificationKey { .rs256(key.publicKey) }

    /// The public half of ``key`` as a PEM `PUBLIC KEY` block (a `TokenIssuer`'s `certificateInline`).
    package var publicKeyPEM: String { key.publicKey.pemRepresentation }

    /// The JWKS of ``key`` (`{"keys":[{"kty":"RSA","kid":…,"n":…,"e":…}]}`).
    package var jwks: String {
        DocumentWriter.json(["keys": .array([key.publicKey.jwk(kid: keyID) ?? .null])])
    }

    package func claims(_ extra: [(String, JSONValue)] = [], issuer: String? = nil) -> JSONObject {
        var claims = JSONObject()
        claims["iss"] = .string(issuer ?? self.issuer)
        claims["sub"] = .string("alice")
        claims["aud"] = .string("aud1")
        claims["iat"] = .int(Int(now) - 10)
        claims["exp"] = .int(Int(now) + 3600)
        claims["scope"] = .string("orders:read orders:write")
        for (name, value) in extra { claims[name] = value }
        return claims
    }

    package func internalKey(api: String, keyType: String = "PRODUCTION") -> String {
        var claims = claims(
            [("aud", "apk-internal-key"), ("apiId", .string(api)), ("keytype", .string(keyType))], issuer: internalIssuer)
        claims["scope"] = nil
        return try! signer.sign(claims)
    }

    package func token(_ claims: JSONObject? = nil) -> String { try! signer.sign(claims ?? self.claims()) }

    /// A token with any header, payload and raw signature bytes.
    package static func raw(header: String, payload: String, signature: [UInt8] = []) -> String {
        b64(Array(header.utf8)) + "." + b64(Array(payload.utf8)) + "." + b64(signature)
    }

    package static func b64(_ bytes: [UInt8]) -> String { Base64URL.encode(bytes) }

    /// Replaces the payload of a signed token, keeping its header and signature.
    package static func tampered(_ token: String, payload: String) -> String {
        let parts = token.split(separator: ".")
        return parts[0] + "." + b64(Array(payload.utf8)) + "." + parts[2]
    }

    /// The issue's hostile list against an API `api` (`otherAPI` owns the foreign internal key): every case must be
    /// refused with 401 900903.
    package func hostileCases(api: String, otherAPI: String) -> [HostileCase] {
        let publicDER = key.publicKey.derRepresentation
        let hsInput = Self.b64(Array(#"{"alg":"HS256","typ":"JWT","kid":"\#(keyID)"}"#.utf8)) + "."
            + Self.b64(Array(DocumentWriter.json(.object(claims())).utf8))
        let hmac = HMAC<SHA256>.authenticationCode(for: Array(hsInput.utf8), using: SymmetricKey(data: publicDER))
        let payload = DocumentWriter.json(.object(claims()))
        var manyClaims = claims()
        for index in 0..<10_000 { manyClaims["c\(index)"] = .int(index) }
        var noSub = claims()
        noSub["sub"] = nil
        var noExp = claims()
        noExp["exp"] = nil
        let bearer = { (token: String) in [("Authorization", "Bearer " + token)] }
        let key = internalKey(api: api)
        return [
            HostileCase(name: "alg none", headers: bearer(Self.raw(header: #"{"alg":"none"}"#, payload: payload))),
            HostileCase(name: "HS256 signed with the RSA public key", headers: bearer(hsInput + "." + Self.b64(Array(hmac)))),
            HostileCase(name: "expired", headers: bearer(token(claims([("exp", .int(Int(now) - 120))])))),
            HostileCase(name: "nbf in the future", headers: bearer(token(claims([("nbf", .int(Int(now) + 600))])))),
            HostileCase(name: "no exp", headers: bearer(token(noExp))),
            HostileCase(name: "no sub", headers: bearer(token(noSub))),
            HostileCase(name: "wrong issuer", headers: bearer(token(claims(issuer: otherIssuer)))),
            HostileCase(
                name: "signed by another key",
                headers: bearer(try! RS256Signer(keyID: keyID, privateKey: otherKey).sign(claims()))),
            HostileCase(
                name: "tampered payload",
                headers: bearer(Self.tampered(token(), payload: DocumentWriter.json(.object(claims([("sub", "root")])))))),
            HostileCase(
                name: "unknown kid", headers: bearer(try! RS256Signer(keyID: "k9", privateKey: self.key).sign(claims()))),
            HostileCase(
                name: "64 KiB token",
                headers: bearer(token(claims([("pad", .string(String(repeating: "a", count: 64 * 1024)))])))),
            HostileCase(name: "10,000 claims", headers: bearer(token(manyClaims))),
            HostileCase(name: "non-base64 garbage", headers: bearer("%%%.@@@.!!!")),
            HostileCase(name: "not a bearer token", headers: [("Authorization", "Basic YWxpY2U6c2VjcmV0")]),
            HostileCase(name: "empty bearer", headers: [("Authorization", "Bearer ")]),
            HostileCase(name: "internal key of another API", headers: [("Internal-Key", internalKey(api: otherAPI))]),
            HostileCase(
                name: "sandbox internal key on production", headers: [("Internal-Key", internalKey(api: api, keyType: "SANDBOX"))]),
            HostileCase(name: "internal key sent as a bearer token", headers: bearer(key)),
            HostileCase(name: "access token sent as an internal key", headers: [("Internal-Key", token())]),
            HostileCase(name: "internal key sent twice", headers: [("Internal-Key", key), ("Internal-Key", key)]),
        ]
    }
}

/// One hostile request: a name and the headers that carry it.
package struct HostileCase: Sendable, CustomStringConvertible {
    package var name: String
    package var headers: [(String, String)]
    package var description: String { name }

    package init(name: String, headers: [(String, String)]) {
        self.name = name
        self.headers = headers
    }
}
