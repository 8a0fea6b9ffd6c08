import APKAuth
package import APKModel

/// Builds ``APIAuthPlan`` / ``OperationAuthPlan`` from the CR specs the adapter reads. Pure.
///
/// Anything the gateway cannot enforce yet is an ``AuthPlanError``, never silently dropped: the API is then not
/// served and its status says why.
package enum AuthPlanBuilder {
    /// Header internal keys are read from (contract §7.3: the JWT auth type's CRD default header).
    package static let internalKeyHeader = "internal-key"
    /// The apk-conf's default API-key header (lower case).
    package static let defaultAPIKeyHeader = "apikey"
    /// The audience every internal key carries (and no access token may).
    package static let internalKeyAudience = TokenVerifier.internalKeyAudience

    /// The API-level plan. `authentication`: the Authentication whose `targetRef` is the API (nil: none — OAuth2 on
    /// `Authorization`, as the reference does with no Authentication, plus internal keys); `policy`: the API-level
    /// APIPolicy.
    package static func api(
        id: String, organization: String, authentication: AuthenticationSpec?, policy: APIPolicySpec?
    ) throws(AuthPlanError) -> APIAuthPlan {
        let details = authentication.flatMap { $0.override ?? $0.default }
        let disabled = details?.disabled ?? false
        var credentials: [Credential] = []
        if let types = details?.authTypes {
            if let oauth2 = types.oauth2, !oauth2.disabled {
                guard isHeaderName(oauth2.header) else {
                    throw AuthPlanError("OAuth2 header \"\(oauth2.header)\" is not a valid header name")
                }
                credentials.append(.oauth2(header: oauth2.header.lowercased(), sendToUpstream: oauth2.sendTokenToUpstream))
            }
            if let apiKey = types.apiKey {
                for key in apiKey.keys {
                    switch key.in.lowercased() {
                    case "header":
                        guard isHeaderName(key.name) else {
                            throw AuthPlanError("API key header \"\(key.name)\" is not a valid header name")
                        }
                        credentials.append(.apiKey(location: .header(key.name.lowercased()), sendToUpstream: key.sendTokenToUpstream))
                    case "query":
                        guard isQueryName(key.name) else {
                            throw AuthPlanError("API key query parameter \"\(key.name)\" is not a valid parameter name")
                        }
                        credentials.append(.apiKey(location: .query(key.name), sendToUpstream: key.sendTokenToUpstream))
                    default:
                        throw AuthPlanError("API key location \"\(key.in)\" is not Header or Query")
                    }
                }
            }
            if let jwt = types.jwt, !jwt.disabled {
                guard isHeaderName(jwt.header) else {
                    throw AuthPlanError("JWT header \"\(jwt.header)\" is not a valid header name")
                }
                guard jwt.audience.count <= 64, jwt.audience.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 512 }) else {
                    throw AuthPlanError("JWT audiences must be 1…64 non-empty values")
                }
                credentials.append(.jwt(header: jwt.header.lowercased(), sendToUpstream: jwt.sendTokenToUpstream, audiences: jwt.audience))
            }
            if let mtls = types.mtls, !mtls.disabled, mtls.required.lowercased() == "mandatory" {
                throw AuthPlanError("mandatory mutual TLS is not enforced by the gateway yet")
            }
        } else {
            credentials.append(.oauth2(header: "authorization", sendToUpstream: true))
        }
        // Internal keys go with OAuth2 (the quick start calls an API without an authentication block with one).
        if credentials.contains(where: { if case .oauth2 = $0 { true } else { false } }) {
            credentials.append(.internalKey(header: internalKeyHeader))
        }
        if !disabled, credentials.isEmpty {
            throw AuthPlanError("authentication is enabled but every credential type is disabled")
        }
        return APIAuthPlan(
            apiID: id, organization: organization, disabled: disabled, credentials: credentials,
            subscriptionValidation: policy?.default.subscriptionValidation == true, cors: try policy?.default.cORSPolicy.map { policy throws(AuthPlanError) in
                try CORSPlan(policy: policy)
            })
    }

    /// The plan of one operation: `authentications` and `scopes` are the specs its rule references through
    /// `ExtensionRef` filters; `target` the resource path shown in denials.
    package static func operation(
        target: String, authentications: [AuthenticationSpec], scopes: [ScopeSpec], backendJWT: BackendJWTPlan? = nil
    ) throws(AuthPlanError) -> OperationAuthPlan {
        var secured = true
        for authentication in authentications {
            let details = authentication.override ?? authentication.default
            if details?.disabled == true {
                secured = false
            } else if details?.authTypes != nil {
                throw AuthPlanError("operation \(target): operation-level authentication types are not supported")
            }
        }
        var names: [String] = []
        for scope in scopes {
            for name in scope.names where !names.contains(name) {
                guard isScope(name) else { throw AuthPlanError("operation \(target): scope \"\(name)\" is not valid") }
                names.append(name)
            }
        }
        // An unsecured operation has no caller to describe: no backend JWT.
        return OperationAuthPlan(
            target: target, secured: secured, scopes: secured ? names : [], backendJWT: secured ? backendJWT : nil)
    }

    /// RFC 7230 token characters (header names).
    package static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128 && name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
    }

    /// A query parameter name an API key may be read from: RFC 3986 unreserved characters.
    static func isQueryName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128 && name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default: "-._~".utf8.contains(byte)
            }
        }
    }

    /// RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`.
    static func isScope(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 256
            && name.utf8.allSatisfy { $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) }
    }
}
