package import APKAuth
package import APKModel
import Foundation

/// A `TokenIssuer` of the API's organization as an auth plan carries it: who it is and how its tokens are read.
/// Its keys travel apart (``ResolvedTokenIssuer/keys``: `jwt_authn` providers natively, APK discovery to the
/// enforcer), so a plan on a route stays small.
package struct PlanIssuer: Sendable, Hashable, Codable {
    /// `<organization>/<TokenIssuer name>`: the discovery resource name and the key of ``TrustedKeys/tokenIssuers``.
    package var id: String
    /// The `iss` its tokens carry.
    package var issuer: String
    /// The claim holding granted scopes (string, space-delimited, or array); nil: `scope`.
    package var scopesClaim: String?
    /// The claim naming the client (consumer key) for subscription validation; nil: `azp`.
    package var consumerKeyClaim: String?
    /// Claims renamed (remote → local) in what the gateway passes on (the backend JWT's claims).
    package var claimMappings: [ClaimRename]?

    package init(
        id: String, issuer: String, scopesClaim: String? = nil, consumerKeyClaim: String? = nil,
        claimMappings: [ClaimRename]? = nil
    ) {
        self.id = id
        self.issuer = issuer
        self.scopesClaim = scopesClaim
        self.consumerKeyClaim = consumerKeyClaim
        self.claimMappings = claimMappings
    }

    /// The scopes claim in force.
    package var scopes: String { scopesClaim ?? AuthEvaluator.scopesClaim }
    /// The consumer-key claim in force.
    package var consumerKey: String { consumerKeyClaim ?? SubscriptionHeaders.consumerKeyClaim }

    package struct ClaimRename: Sendable, Hashable, Codable {
        package var remote: String
        package var local: String

        package init(remote: String, local: String) {
            self.remote = remote
            self.local = local
        }
    }

    /// The claims as the gateway passes them on: each mapped remote claim under its local name.
    func mapped(_ claims: JSONObject) -> JSONObject {
        guard let claimMappings, !claimMappings.isEmpty else { return claims }
        var result = claims
        for rename in claimMappings {
            guard let value = claims[rename.remote] else { continue }
            result[rename.remote] = nil
            result[rename.local] = value
        }
        return result
    }
}

/// A `TokenIssuer` resource checked and resolved: what the plan carries, where its keys are and which APIs it
/// serves. The adapter compiles it into `jwt_authn` providers and sends it to the enforcer over APK discovery.
package struct ResolvedTokenIssuer: Sendable, Hashable, Codable {
    package var plan: PlanIssuer
    package var organization: String
    /// Environments it serves; empty: every environment (`*`).
    package var environments: [String]
    package var keys: KeySource

    package enum KeySource: Sendable, Hashable, Codable {
        /// A JWKS URL (`http(s)://host[:port]/path`) fetched and cached; `trustedCA`: PEM of the CA that signs the
        /// JWKS server's certificate (nil: the system trust store).
        case jwks(url: String, trustedCA: String?)
        /// The configured PEM certificate (or public key): its key is the issuer's only key; `jwks` is that key as a
        /// JWKS document (what `jwt_authn` reads), built once when the issuer is resolved.
        case certificate(pem: String, jwks: String)
    }

    package init(plan: PlanIssuer, organization: String, environments: [String], keys: KeySource) {
        self.plan = plan
        self.organization = organization
        self.environments = environments
        self.keys = keys
    }

    /// True when the issuer serves APIs of `organization` in `environment` (nil or empty: `Default`).
    package func serves(organization: String, environment: String?) -> Bool {
        guard organization == self.organization else { return false }
        let environment = (environment?.isEmpty ?? true) ? "Default" : environment!
        return environments.isEmpty || environments.contains("*") || environments.contains(environment)
    }

    /// Checks a `TokenIssuer` spec. Throws a message saying why it cannot be used (it then trusts nothing).
    package init(name: String, spec: TokenIssuerSpec) throws(AuthPlanError) {
        let organization = spec.organization.trimmingCharacters(in: .whitespaces)
        guard !organization.isEmpty else { throw AuthPlanError("TokenIssuer \(name) names no organization") }
        guard !spec.issuer.isEmpty, spec.issuer.utf8.count <= 2048 else {
            throw AuthPlanError("TokenIssuer \(name) has no issuer (iss) value")
        }
        func claim(_ value: String?, _ field: String) throws(AuthPlanError) -> String? {
            guard let value, !value.isEmpty else { return nil }
            guard value.utf8.count <= 256, !value.contains("."), value.allSatisfy({ !$0.isWhitespace }) else {
                throw AuthPlanError("TokenIssuer \(name): \(field) '\(value)' is not a top-level claim name")
            }
            return value
        }
        let scopes = try claim(spec.scopesClaim, "scopesClaim")
        let consumerKey = try claim(spec.consumerKeyClaim, "consumerKeyClaim")
        var renames: [PlanIssuer.ClaimRename] = []
        for mapping in spec.claimMappings ?? [] {
            guard let remote = try claim(mapping.remoteClaim, "claimMappings.remoteClaim"),
                let local = try claim(mapping.localClaim, "claimMappings.localClaim")
            else { throw AuthPlanError("TokenIssuer \(name): a claim mapping needs remoteClaim and localClaim") }
            renames.append(PlanIssuer.ClaimRename(remote: remote, local: local))
        }
        let validation = spec.signatureValidation
        let keys: KeySource
        switch (validation.jwks, validation.certificate) {
        case (let jwks?, nil):
            guard Self.isJWKSURL(jwks.url) else {
                throw AuthPlanError("TokenIssuer \(name): signatureValidation.jwks.url is not an http(s)://host[:port]/path URL")
            }
            var trustedCA: String?
            if let tls = jwks.tls {
                guard tls.secretRef == nil, tls.configMapRef == nil, let inline = tls.certificateInline else {
                    throw AuthPlanError("TokenIssuer \(name): jwks.tls must be certificateInline (secretRef and configMapRef are not read yet)")
                }
                guard VerificationKey.hasCertificate(inline) else {
                    throw AuthPlanError("TokenIssuer \(name): jwks.tls.certificateInline holds no PEM certificate")
                }
                trustedCA = inline
            }
            keys = .jwks(url: jwks.url, trustedCA: trustedCA)
        case (nil, let certificate?):
            guard certificate.secretRef == nil, certificate.configMapRef == nil, let inline = certificate.certificateInline else {
                throw AuthPlanError("TokenIssuer \(name): signatureValidation.certificate must be certificateInline (secretRef and configMapRef are not read yet)")
            }
            guard let found = VerificationKey.keys(fromPEM: inline) else {
                throw AuthPlanError("TokenIssuer \(name): the certificate holds no RSA (2048 bits or more) or P-256 public key")
            }
            keys = .certificate(pem: inline, jwks: VerificationKey.jwksDocument(found))
        default:
            throw AuthPlanError("TokenIssuer \(name): signatureValidation needs exactly one of jwks and certificate")
        }
        self.init(
            plan: PlanIssuer(
                id: "\(organization)/\(name)", issuer: spec.issuer, scopesClaim: scopes, consumerKeyClaim: consumerKey,
                claimMappings: renames.isEmpty ? nil : renames),
            organization: organization, environments: spec.environments ?? [], keys: keys)
    }

    /// `http(s)://host[:port]/path` without spaces, fragments or user info.
    package static func isJWKSURL(_ url: String) -> Bool {
        guard url.utf8.count <= 2048, url.hasPrefix("https://") || url.hasPrefix("http://"),
            !url.contains(" "), !url.contains("#"), let parsed = URL(string: url), let host = parsed.host, !host.isEmpty,
            parsed.user == nil
        else { return false }
        return true
    }
}

extension VerificationKey {
    /// True when the text holds at least one PEM `CERTIFICATE` block.
    package static func hasCertificate(_ text: String) -> Bool {
        text.contains("-----BEGIN CERTIFICATE-----") && text.contains("-----END CERTIFICATE-----")
    }
}
