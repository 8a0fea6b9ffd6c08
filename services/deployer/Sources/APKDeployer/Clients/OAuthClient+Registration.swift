package import APKModel
package import APKStore

/// The client views of the client-management API (``ClientRegistrationController``).
extension OAuthClient {
    /// The registration view: `{client_id, client_name, grant_types, redirect_uris, scopes}`, never the secret.
    package var registrationJSON: JSONValue {
        .object(JSONObject([
            ("client_id", .string(id)), ("client_name", .string(name)), ("grant_types", .array(grantTypes.map { .string($0) })),
            ("redirect_uris", .array(redirectURIs.map { .string($0) })), ("scopes", .array(allowedScopes.map { .string($0) })),
        ]))
    }

    /// The view with a freshly generated secret (registration, regeneration): `client_secret` after `client_id`,
    /// and `client_secret_expires_at: 0` (never expires, RFC 7591 §3.2.1).
    package func registrationJSON(secret: String) -> JSONValue {
        .object(JSONObject([
            ("client_id", .string(id)), ("client_secret", .string(secret)), ("client_name", .string(name)),
            ("grant_types", .array(grantTypes.map { .string($0) })), ("redirect_uris", .array(redirectURIs.map { .string($0) })),
            ("scopes", .array(allowedScopes.map { .string($0) })), ("client_secret_expires_at", .int(0)),
        ]))
    }
}
