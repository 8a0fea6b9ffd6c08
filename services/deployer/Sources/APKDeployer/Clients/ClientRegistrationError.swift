package import APKModel

/// An error answer of the client-registration API: `{"error","error_description"}` with its status, the reference
/// IdP's DCR codes (`100150` … `100153`, `100100`) and, for checks the reference does not make, RFC 7591's
/// `invalid_client_metadata` / `invalid_redirect_uri`.
package struct ClientRegistrationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// HTTP status.
    package var status: Int
    /// `error`: the reference's numeric code as a string, or an RFC 7591 code.
    package var error: String
    /// `error_description`.
    package var errorDescription: String

    /// An error answer with these fields.
    package init(status: Int, error: String, description: String) {
        self.status = status
        self.error = error
        self.errorDescription = description
    }

    /// For logs: code, status and text.
    package var description: String { "client registration error \(error) (HTTP \(status)): \(errorDescription)" }

    /// The response body, keys in the reference's order.
    package var jsonBody: JSONValue { ["error": .string(error), "error_description": .string(errorDescription)] }

    /// 400 `100150`: no, or an empty, `client_name`.
    package static let clientNameEmpty = ClientRegistrationError(
        status: 400, error: "100150", description: "Client Name is Empty.")
    /// 400 `100151`: no, or an empty, `grant_types` list (the reference's text).
    package static let grantTypesEmpty = ClientRegistrationError(
        status: 400, error: "100151", description: "grant type list is empty")
    /// 404 `100152`: no client with this id in the caller's organization.
    package static func notFound(_ id: String) -> ClientRegistrationError {
        ClientRegistrationError(status: 404, error: "100152", description: "\(shown(id)) not found in system.")
    }
    /// 400 `100153`: a grant type the issuer does not know.
    package static func grantTypeNotSupported(_ grant: String) -> ClientRegistrationError {
        ClientRegistrationError(status: 400, error: "100153", description: "\(shown(grant)) grant type not supported.")
    }
    /// 500 `100100` (the reference's internal error); 503 when the database is unavailable (ours: retryable).
    package static func internalError(status: Int = 500) -> ClientRegistrationError {
        ClientRegistrationError(status: status, error: "100100", description: "Internal Error")
    }
    /// 400 (ours, RFC 7591 §3.2.2): a field of the wrong type, length or syntax.
    package static func invalidMetadata(_ detail: String) -> ClientRegistrationError {
        ClientRegistrationError(status: 400, error: "invalid_client_metadata", description: detail)
    }
    /// 400 (ours, RFC 7591 §3.2.2): a redirect URI that is not an absolute http(s) URI without a fragment.
    package static func invalidRedirectURI(_ uri: String) -> ClientRegistrationError {
        ClientRegistrationError(
            status: 400, error: "invalid_redirect_uri",
            description: "\(shown(uri)) is not an absolute http or https URI without a fragment")
    }
    /// 413 (ours): the body exceeds ``ClientRegistrationController/maxBodyBytes``.
    package static func tooLarge(limit: Int) -> ClientRegistrationError {
        ClientRegistrationError(
            status: 413, error: "invalid_client_metadata", description: "The request is larger than \(limit) bytes")
    }
    /// 415 (ours): the body is not `application/json`.
    package static let notJSON = ClientRegistrationError(
        status: 415, error: "invalid_client_metadata", description: "The body must be application/json")

    /// Caller-supplied text in a description, cut at 64 characters.
    static func shown(_ text: String) -> String { text.count > 64 ? String(text.prefix(64)) + "…" : text }
}
