import APKAuthPlan
import APKModel
import APKStore
package import Hummingbird
package import Logging
import Foundation
package import APKAuth

/// The authenticated caller of a deployer endpoint.
package struct Caller: Sendable, Hashable {
    /// `sub` of the token.
    package var subject: String
    /// `organization` claim, `default` when absent.
    package var organization: String
    package var scopes: [String]
    package var issuer: String
}

/// Authenticates `Authorization: Bearer <JWT>` callers and checks their scopes.
///
/// Every token problem — missing, malformed, forged, expired, untrusted — is 401 900903 "Invalid Credentials" (the
/// reason is logged at debug and counted, the token never is); a valid token without any of the accepted scopes is
/// 403 900910. Both are thrown as ``CallerDenied`` (the §7.6 body). Keys that cannot be read (database down) are 503
/// 909063 (an ``APKError``).
package struct CallerAuthenticator: Sendable {
    package let verifier: TokenVerifier

    package init(verifier: TokenVerifier) { self.verifier = verifier }

    /// The caller, when the token is valid and carries at least one of `scopes`.
    /// `resource` names the endpoint in the 403 description (a route template, never a raw path).
    /// Throws ``CallerDenied`` (401, 403) or ``APKError`` (503 when the keys cannot be read).
    package func authenticate(
        _ request: Request, anyOf scopes: Set<String>, resource: String, logger: Logger
    ) async throws -> Caller {
        let caller: Caller
        do {
            let token = try Self.bearerToken(request.headers[.authorization])
            let verified = try await verifier.verify(token)
            caller = Caller(
                subject: verified.subject, organization: verified.organization, scopes: verified.scopes,
                issuer: verified.issuer)
        } catch let rejection as TokenRejection {
            DeployerMetrics.countAuthFailure(reason: rejection.reason)
            logger.debug("bearer token rejected", metadata: ["auth.reason": .string(rejection.description)])
            throw CallerDenied(.invalidCredentials)
        } catch let error as StoreError {
            throw APKError.store(error)
        } catch {
            throw CallerDenied(.invalidCredentials)
        }
        guard caller.scopes.contains(where: scopes.contains) else {
            DeployerMetrics.countAuthFailure(reason: "scope")
            throw CallerDenied(.missingScope(target: resource))
        }
        return caller
    }

    /// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
    static func bearerToken(_ header: String?) throws(TokenRejection) -> String {
        guard let header else { throw .missing }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw .missing }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { throw .missing }
        return token
    }
}
