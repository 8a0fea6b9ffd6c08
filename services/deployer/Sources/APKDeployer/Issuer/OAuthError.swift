package import APKModel
import APKRuntime
import Hummingbird

/// An OAuth2 error answer of the token endpoint: `{"error","error_description"}` with its status (contract §10.1).
package struct OAuthError: Error, Sendable, Hashable, CustomStringConvertible {
    package var status: Int
    package var error: String
    package var errorDescription: String

    package init(status: Int, error: String, description: String) {
        self.status = status
        self.error = error
        self.errorDescription = description
    }

    package var description: String { "OAuth error \(error) (HTTP \(status)): \(errorDescription)" }

    /// The response body, keys in contract order.
    package var jsonBody: JSONValue { ["error": .string(error), "error_description": .string(errorDescription)] }

    /// 401: no, non-Basic, empty or malformed client credentials.
    package static let unauthorized = OAuthError(status: 401, error: "access_denied", description: "Unauthorized")
    /// 401: no client with this id (the reference's spelling).
    package static let unknownClient = OAuthError(
        status: 401, error: "access_denied", description: "Invalide Client Id/Secret")
    /// 401: wrong secret (the reference's spelling).
    package static let wrongSecret = OAuthError(
        status: 401, error: "unauthorized_client", description: "Invalide Client Id/Secret")
    /// 400: a grant type the client may not use.
    package static func grantNotAllowed(_ grant: String) -> OAuthError {
        OAuthError(status: 400, error: "unsupported_grant_type", description: "\(shown(grant)) not supported by application.")
    }
    /// 400: a grant type this issuer does not implement.
    package static func grantNotSupported(_ grant: String) -> OAuthError {
        OAuthError(status: 400, error: "unsupported_grant_type", description: "\(shown(grant)) not supported by system.")
    }
    /// 400: the request itself is unusable (not form data, a parameter missing or repeated).
    package static func invalidRequest(_ detail: String) -> OAuthError {
        OAuthError(status: 400, error: "invalid_request", description: detail)
    }
    /// 400 (§10.1) for internal failures; 503 when the database is unavailable (retryable).
    package static func serverError(status: Int = 400) -> OAuthError {
        OAuthError(status: status, error: "server_error", description: "Server Error occured on generating token")
    }
    /// 413: the request body exceeds the token endpoint's limit.
    package static func tooLarge(limit: Int) -> OAuthError {
        OAuthError(status: 413, error: "invalid_request", description: "The request is larger than \(limit) bytes")
    }

    /// Caller-supplied text in a description, cut at 64 characters.
    static func shown(_ text: String) -> String { text.count > 64 ? String(text.prefix(64)) + "…" : text }

    /// The answer: `status`, the JSON body and `Cache-Control: no-store` (RFC 6749 §5.1, RFC 7591 §3.2).
    var response: Response { Response.json(jsonBody, status: HTTPResponse.Status(code: status)).noStore() }
}

extension Response {
    /// The response with `Cache-Control: no-store`: token and client-secret answers must not be cached.
    func noStore() -> Response {
        var response = self
        response.headers[.cacheControl] = "no-store"
        return response
    }
}
