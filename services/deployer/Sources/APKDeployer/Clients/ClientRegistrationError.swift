/// The client-registration API answers like the token endpoint — `{"error","error_description"}` with a status
/// (``OAuthError``) — with the reference IdP's DCR codes (`100150` … `100153`, `100100`) and, for checks the
/// reference does not make, RFC 7591's `invalid_client_metadata` / `invalid_redirect_uri`.
package typealias ClientRegistrationError = OAuthError

extension OAuthError {
    /// 400 `100150`: no, or an empty, `client_name`.
    package static let clientNameEmpty = OAuthError(
        status: 400, error: "100150", description: "Client Name is Empty.")
    /// 400 `100151`: no, or an empty, `grant_types` list (the reference's text).
    package static let grantTypesEmpty = OAuthError(
        status: 400, error: "100151", description: "grant type list is empty")
    /// 404 `100152`: no client with this id in the caller's organization.
    package static func notFound(_ id: String) -> OAuthError {
        OAuthError(status: 404, error: "100152", description: "\(shown(id)) not found in system.")
    }
    /// 400 `100153`: a grant type the issuer does not know.
    package static func grantTypeNotSupported(_ grant: String) -> OAuthError {
        OAuthError(status: 400, error: "100153", description: "\(shown(grant)) grant type not supported.")
    }
    /// 500 `100100` (the reference's internal error); 503 when the database is unavailable (ours: retryable).
    package static func internalError(status: Int = 500) -> OAuthError {
        OAuthError(status: status, error: "100100", description: "Internal Error")
    }
    /// 400 (ours, RFC 7591 §3.2.2): a field of the wrong type, length or syntax.
    package static func invalidMetadata(_ detail: String) -> OAuthError {
        OAuthError(status: 400, error: "invalid_client_metadata", description: detail)
    }
    /// 400 (ours, RFC 7591 §3.2.2): a redirect URI that is not an absolute http(s) URI without a fragment.
    package static func invalidRedirectURI(_ uri: String) -> OAuthError {
        OAuthError(
            status: 400, error: "invalid_redirect_uri",
            description: "\(shown(uri)) is not an absolute http or https URI without a fragment")
    }
    /// 413 (ours): the body exceeds ``ClientRegistrationController/maxBodyBytes``.
    package static func registrationTooLarge(limit: Int) -> OAuthError {
        OAuthError(
            status: 413, error: "invalid_client_metadata", description: "The request is larger than \(limit) bytes")
    }
    /// 415 (ours): the body is not `application/json`.
    package static let notJSON = OAuthError(
        status: 415, error: "invalid_client_metadata", description: "The body must be application/json")
}
