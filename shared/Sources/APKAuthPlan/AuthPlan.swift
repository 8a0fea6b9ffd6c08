// The gateway's security decisions for one API, independent of Envoy: built once from the API's CRs
// (``AuthPlanBuilder``), compiled by the adapter into Envoy's native filters and evaluated by ``AuthEvaluator``
// wherever Swift decides a request itself. Plain Codable values with a stable JSON form (golden files, and later
// the enforcer's discovery payload).

/// What a request to one API must present, and what is checked after authentication.
package struct APIAuthPlan: Sendable, Hashable, Codable {
    /// The API CR name (the `apiId` claim of its internal keys).
    package var apiID: String
    package var organization: String
    /// Authentication switched off for the whole API (`Authentication` `default.disabled: true`).
    package var disabled: Bool
    /// Accepted credentials, in the order they are tried; the first one present decides.
    package var credentials: [Credential]
    /// `APIPolicy` `subscriptionValidation`: OAuth2 and API-key callers must hold a subscription (``Subscribers``).
    package var subscriptionValidation: Bool
    /// The API's own CORS policy; nil: it has none, and the gateway's default applies (``CORSPlan/gatewayDefault``
    /// unless the gateway is configured otherwise).
    package var cors: CORSPlan?
    /// The JWT the enforcer signs for the API's backend (§7.7); nil: none.
    package var backendJWT: BackendJWTPlan?
    /// The `TokenIssuer`s of the API's organization and environment, trusted besides the gateway's own issuers
    /// (which every API trusts); nil: none.
    package var issuers: [PlanIssuer]?

    package init(
        apiID: String, organization: String, disabled: Bool, credentials: [Credential], subscriptionValidation: Bool,
        cors: CORSPlan? = nil
    ) {
        self.apiID = apiID
        self.organization = organization
        self.disabled = disabled
        self.credentials = credentials
        self.subscriptionValidation = subscriptionValidation
        self.cors = cors
    }
}

/// One way a caller may authenticate.
package enum Credential: Sendable, Hashable, Codable {
    /// An access token as `<header>: Bearer <jwt>` from a trusted issuer of the API's organization.
    case oauth2(header: String, sendToUpstream: Bool)
    /// The JWT auth type: a token of a trusted issuer sent raw in `<header>` (no scheme); when `audiences` is not
    /// empty its `aud` must name one of them. Never scope-checked (contract §7.4).
    case jwt(header: String, sendToUpstream: Bool, audiences: [String])
    /// An API key: a JWT of an API-key issuer (the gateway's `AUTH_API_KEY_ISSUERS`) sent raw in a header or a query
    /// parameter; a key whose `keytype` names the other environment is refused.
    case apiKey(location: APIKeyLocation, sendToUpstream: Bool)
    /// An internal key minted by `generate-key` in `<header>` (raw JWT): signed by the built-in issuer's keys,
    /// audience `apk-internal-key`, `apiId` = this API, `keytype` = the environment of the route.
    case internalKey(header: String)

    /// True for the credentials that carry access tokens (OAuth2 and the JWT type): those an organization's
    /// `TokenIssuer`s sign.
    package var isAccessToken: Bool {
        switch self {
        case .oauth2, .jwt: true
        case .apiKey, .internalKey: false
        }
    }

    /// The header the credential is read from (lower-case); nil for a query-parameter API key.
    package var header: String? {
        switch self {
        case .oauth2(let header, _), .jwt(let header, _, _), .internalKey(let header): header.lowercased()
        case .apiKey(.header(let name), _): name.lowercased()
        case .apiKey(.query, _): nil
        }
    }
}

/// Where an API key is read from.
package enum APIKeyLocation: Sendable, Hashable, Codable {
    /// A request header (lower case).
    case header(String)
    /// A query parameter (case-sensitive, as URLs are).
    case query(String)
}

/// One operation (HTTPRoute rule match) of an API.
package struct OperationAuthPlan: Sendable, Hashable, Codable {
    /// The resource path template as the 900910 description shows it (`/employee/{id}`).
    package var target: String
    /// False when the operation references the API's `…-no-authentication` Authentication (`secured: false`).
    package var secured: Bool
    /// Every one of these must be granted to an OAuth2 token (empty: no scope check).
    package var scopes: [String]
    /// The operation's own backend JWT (an `APIPolicy` on its rule); it replaces the API's for this operation.
    package var backendJWT: BackendJWTPlan?

    package init(target: String, secured: Bool, scopes: [String], backendJWT: BackendJWTPlan? = nil) {
        self.target = target
        self.secured = secured
        self.scopes = scopes
        self.backendJWT = backendJWT
    }
}

/// Production or sandbox: the `keytype` an internal key must carry.
package enum KeyType: String, Sendable, Hashable, Codable {
    case production = "PRODUCTION"
    case sandbox = "SANDBOX"
}

/// Why an API's plan cannot be built: the API must not be served (never without its security).
package struct AuthPlanError: Error, Sendable, Hashable, CustomStringConvertible {
    package var message: String

    package init(_ message: String) {
        self.message = message
    }

    package var description: String { message }
}
