package import APKModel
package import APKStore
package import Foundation
package import Logging
import APKAuth
import APKSupport

/// The built-in OAuth2 token issuer (contract §10.1, "Our decisions"): `client_credentials` with HTTP Basic client
/// authentication; access tokens are RS256 JWTs signed by the active key of ``SigningKeyManager``.
package struct TokenIssuer: Sendable {
    package struct Settings: Sendable, Hashable {
        /// `iss` of every token (and the issuer ``TokenVerifier`` trusts for them).
        package var issuer = "https://idp.am.wso2.com/token"
        /// `aud` of access tokens (§10.1).
        package var audience = "aud1"
        /// Access-token lifetime (`expires_in`).
        package var tokenTTL: Duration = .seconds(3600)

        package init() {}
    }

    /// A granted token: the 200 body of §10.1.
    package struct Grant: Sendable, Hashable {
        package var accessToken: String
        package var expiresIn: Int
        package var scope: String

        package var jsonBody: JSONValue {
            ["access_token": .string(accessToken), "token_type": "Bearer", "expires_in": .int(expiresIn), "scope": .string(scope)]
        }
    }

    /// Grant types known to the system (the ones a client may be registered with); only `client_credentials` is
    /// implemented.
    package static let knownGrants: Set<String> = ["client_credentials", "authorization_code", "refresh_token"]

    package let settings: Settings
    private let store: any ControlPlaneStore
    private let keys: SigningKeyManager
    private let secrets: ClientSecretVerifier
    private let now: @Sendable () -> Date

    package init(
        settings: Settings, store: any ControlPlaneStore, keys: SigningKeyManager, secrets: ClientSecretVerifier,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.settings = settings
        self.store = store
        self.keys = keys
        self.secrets = secrets
        self.now = now
    }

    /// Handles one token request: `authorization` is the `Authorization` header, `form` the decoded body (form or
    /// JSON fields). Checks in the reference's order: `grant_type` present (else 400 `server_error`, before any
    /// client authentication), the client's credentials, the grant in the client's list ("not supported by
    /// application."), then the grants this issuer implements ("not supported by system.").
    package func issue(
        authorization: String?, form: [(name: String, value: String)], logger: Logger
    ) async throws(OAuthError) -> Grant {
        guard let grantType = try Self.single("grant_type", in: form) else { throw .serverError() }
        let (clientID, secret) = try Self.basicCredentials(authorization)
        let client: OAuthClient
        do {
            guard let found = try await store.client(id: clientID) else { throw OAuthError.unknownClient }
            client = found
        } catch let error as OAuthError {
            throw error
        } catch {
            throw Self.failure(error, logger: logger)
        }
        try await authenticate(client, secret: secret, logger: logger)
        guard client.grantTypes.contains(grantType) else { throw .grantNotAllowed(grantType) }
        guard grantType == "client_credentials" else { throw .grantNotSupported(grantType) }
        let scope = Self.grantedScopes(requested: try Self.single("scope", in: form), allowed: client.allowedScopes)
        do {
            let signer = try await keys.activeSigner()
            let token = try signer.sign(claims(client: client, scope: scope))
            DeployerMetrics.countTokenIssued(kind: "access")
            logger.info("access token issued", metadata: ["oauth.client.id": .string(client.id), "oauth.scope": .string(scope)])
            return Grant(accessToken: token, expiresIn: Int(settings.tokenTTL.seconds), scope: scope)
        } catch {
            throw Self.failure(error, logger: logger)
        }
    }

    /// Checks the client's secret (``ClientSecretVerifier``: cached, or PBKDF2 off the event loops) and, after a
    /// match against a legacy or weaker hash, stores the upgraded hash — only if the stored hash is still the one
    /// verified (a secret regenerated meanwhile is never overwritten). A failed upgrade is logged, never answered.
    private func authenticate(_ client: OAuthClient, secret: String, logger: Logger) async throws(OAuthError) {
        let outcome: ClientSecretVerifier.Outcome
        do {
            outcome = try await secrets.verify(secret, clientID: client.id, storedHash: client.secretHash)
        } catch {
            logger.debug("client secret verification refused: too many waiting", metadata: ["oauth.client.id": .string(client.id)])
            throw .serverError(status: 503)
        }
        guard case .match(let upgraded) = outcome else { throw .wrongSecret }
        guard let upgraded else { return }
        do {
            if try await store.upgradeClientSecretHash(id: client.id, from: client.secretHash, to: upgraded) {
                secrets.remember(secret: secret, clientID: client.id, storedHash: upgraded)
                logger.notice(
                    "client secret hash upgraded",
                    metadata: ["oauth.client.id": .string(client.id), "oauth.secret.iterations": .stringConvertible(secrets.settings.iterations)])
            }
        } catch {
            logger.warning(
                "client secret hash upgrade failed; retried on the next request",
                metadata: ["oauth.client.id": .string(client.id), "error.description": .string(String(describing: error))])
        }
    }

    private func claims(client: OAuthClient, scope: String) -> JSONObject {
        let issuedAt = Int(now().timeIntervalSince1970)
        return JSONObject([
            ("iss", .string(settings.issuer)), ("sub", .string(client.id)), ("aud", .string(settings.audience)),
            ("exp", .int(issuedAt + Int(settings.tokenTTL.seconds))), ("nbf", .int(issuedAt)), ("iat", .int(issuedAt)),
            ("jti", .string(UUID().uuidString.lowercased())), ("clientId", .string(client.id)),
            ("azp", .string(client.id)),  // the consumer key subscription validation reads (TokenIssuer default claim)
            ("scope", .string(scope)), ("organization", .string(client.organization)),
        ])
    }

    /// Requested scopes (space-separated) that the client may have, in request order without repeats; `default`
    /// when none was requested or none remains. A client whose list holds ``anyScope`` may have every well-formed
    /// scope (RFC 6749 §3.3 scope-token, at most ``maxScopeLength`` characters) except ``DeployerScope/admin``
    /// (granted only when listed), at most ``maxScopes`` of them: the reference's issuer grants what is asked, and
    /// the local stack's development client does the same.
    package static func grantedScopes(requested: String?, allowed: [String]) -> String {
        let any = allowed.contains(anyScope)
        var granted: [String] = []
        for scope in (requested ?? "").split(separator: " ").map(String.init)
        where (allowed.contains(scope) || (any && isScopeToken(scope) && scope != DeployerScope.admin))
            && scope != anyScope && !granted.contains(scope) && granted.count < maxScopes {
            granted.append(scope)
        }
        return granted.isEmpty ? "default" : granted.joined(separator: " ")
    }

    /// In a client's allowed scopes: every scope may be granted.
    package static let anyScope = "*"
    package static let maxScopes = 64
    package static let maxScopeLength = 256

    /// RFC 6749 §3.3: `1*( %x21 / %x23-5B / %x5D-7E )`, and not the wildcard itself.
    static func isScopeToken(_ scope: String) -> Bool {
        scope != anyScope && !scope.isEmpty && scope.utf8.count <= maxScopeLength
            && scope.utf8.allSatisfy { $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) }
    }

    /// `Authorization: Basic base64(id:secret)` (scheme case-insensitive): exactly one `:`, neither side empty, else
    /// 401 `access_denied`; a value that is not base64 or not UTF-8 is 400 `server_error`, as the reference answers.
    static func basicCredentials(_ header: String?) throws(OAuthError) -> (String, String) {
        guard let header else { throw .unauthorized }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic" else { throw .unauthorized }
        let encoded = String(parts[1]).trimmingCharacters(in: .whitespaces)
        guard !encoded.isEmpty else { throw .unauthorized }
        guard let decoded = Data(base64Encoded: encoded), let text = String(validating: Array(decoded), as: UTF8.self) else {
            throw .serverError()
        }
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 2, !fields[0].isEmpty, !fields[1].isEmpty else { throw .unauthorized }
        return (String(fields[0]), String(fields[1]))
    }

    /// The value of a parameter that may appear at most once (RFC 6749 §3.2).
    static func single(_ name: String, in form: [(name: String, value: String)]) throws(OAuthError) -> String? {
        let values = form.filter { $0.name == name }.map(\.value)
        guard values.count <= 1 else { throw .invalidRequest("\(name) is repeated") }
        return values.first.flatMap { $0.isEmpty ? nil : $0 }
    }

    private static func failure(_ error: any Error, logger: Logger) -> OAuthError {
        let unavailable = if case .unavailable = error as? StoreError { true } else { false }
        logger.error(
            "token issuance failed",
            metadata: ["error.code": .string(unavailable ? "909063" : "server_error"), "error.description": .string(String(describing: error))])
        return .serverError(status: unavailable ? 503 : 400)
    }
}
