package import APKAuth
package import APKModel

/// The keys the evaluator trusts, resolved beforehand (no I/O while deciding).
package struct TrustedKeys: Sendable {
    package struct Entry: Sendable {
        package var kid: String?
        package var key: VerificationKey

        package init(kid: String?, key: VerificationKey) {
            self.kid = kid
            self.key = key
        }
    }

    /// Access-token issuers of the API's organization: `iss` → its keys.
    package var accessTokenIssuers: [String: [Entry]]
    /// `iss` of internal keys (never an access-token issuer) and the keys that sign them.
    package var internalKeyIssuer: String
    package var internalKeys: [Entry]
    /// Changes whenever the keys may have changed (a ``VerificationCache`` forgets what older keys verified).
    package var generation: UInt64

    package init(
        accessTokenIssuers: [String: [Entry]], internalKeyIssuer: String, internalKeys: [Entry], generation: UInt64 = 0
    ) {
        self.accessTokenIssuers = accessTokenIssuers
        self.internalKeyIssuer = internalKeyIssuer
        self.internalKeys = internalKeys
        self.generation = generation
    }

    /// Keys of `entries` a token with `kid` may be signed with (every key when the token names none).
    static func candidates(_ entries: [Entry], kid: String?) -> [VerificationKey] {
        guard let kid else { return entries.map(\.key) }
        return entries.filter { $0.kid == kid }.map(\.key)
    }
}

/// One request as the evaluator sees it.
package struct AuthRequest: Sendable {
    package var method: String
    /// Header names in lower case, in arrival order (repeated names kept).
    package var headers: [(name: String, value: String)]

    package init(method: String, headers: [(name: String, value: String)]) {
        self.method = method.uppercased()
        self.headers = headers.map { ($0.name.lowercased(), $0.value) }
    }

    func values(_ name: String) -> [String] { headers.filter { $0.name == name }.map(\.value) }
}

/// Who a request authenticated as.
package struct Identity: Sendable, Hashable {
    package enum Kind: String, Sendable, Hashable { case oauth2, internalKey }
    package var kind: Kind
    package var issuer: String
    package var subject: String
    /// Granted scopes (``VerifiedToken/scopes``; none for internal keys, which are not scope-checked).
    package var scopes: [String]
    package var claims: JSONObject

    package init(kind: Kind, token: VerifiedToken) {
        self.kind = kind
        issuer = token.issuer
        subject = token.subject
        scopes = kind == .oauth2 ? token.scopes(fromClaim: AuthEvaluator.scopesClaim) : []
        claims = token.claims
    }
}

/// What happens to an allowed request before it goes upstream.
package struct Allowance: Sendable, Hashable {
    /// Request headers to remove: every client-sent `x-apk-*` header, internal keys (on secured operations) and
    /// access tokens the API does not send upstream.
    package var removeHeaders: [String]
    /// nil when the operation is not secured (or authentication is disabled).
    package var identity: Identity?
}

package enum Decision: Sendable, Hashable {
    case allow(Allowance)
    /// `reason`: why, as a low-cardinality label for logs and metrics (never sent to the client, never the token).
    case deny(Denial, reason: String)
}

/// The gateway's authentication and authorization decision, evaluated in Swift. The adapter compiles the same plan
/// into Envoy's native filters with the same outcome (`docs/enforcer-design.md`):
///
/// 1. every client-sent `x-apk-*` header is removed; 2. `OPTIONS` passes (CORS preflights); 3. a disabled API or an
/// unsecured operation passes; 4. the present credentials are verified in plan order (OAuth2, then the internal key)
/// and the **first valid one decides** (Envoy's `requires_any` stops there; the reference: "at least one enabled
/// type must succeed"); none valid ⇒ 401 900903; 5. an OAuth2 token must hold **all** the operation's scopes (else
/// 403 900910, even when a valid internal key follows); an internal key must be of this API and environment (else
/// 401 900903). `AuthDifferentialTests` (test/Integration) holds the compiled filters to the same answers.
package enum AuthEvaluator {
    /// Clock skew allowed on `exp`/`nbf` (Envoy `jwt_authn` `clock_skew_seconds` is set to the same value).
    package static let clockSkewSeconds = 30
    /// The claim granted scopes are read from (string, space-delimited, or array), as `jwt_authn` normalises it.
    package static let scopesClaim = "scope"

    /// `cache`: verified credentials to reuse (the enforcer keeps one; the answer is the same with or without it).
    package static func decide(
        api: APIAuthPlan, operation: OperationAuthPlan, keyType: KeyType, request: AuthRequest,
        keys: TrustedKeys, now: Double, cache: VerificationCache? = nil
    ) -> Decision {
        var removed = Set(request.headers.map(\.name).filter { $0.hasPrefix("x-apk-") })
        func allow(_ identity: Identity?) -> Decision {
            .allow(Allowance(removeHeaders: removed.sorted(), identity: identity))
        }
        if request.method == "OPTIONS" || api.disabled || !operation.secured { return allow(nil) }
        // Internal keys are the gateway's own credential: never sent to a backend, whichever credential decides.
        for case .internalKey(let header) in api.credentials where !request.values(header.lowercased()).isEmpty {
            removed.insert(header.lowercased())
        }
        var reason = "missing"
        for credential in api.credentials {
            let values = request.values(credential.header)
            guard !values.isEmpty else { continue }
            guard values.count == 1, let value = values.first else {
                reason = "duplicate_header"  // sent twice: ambiguous, counts as not sent
                continue
            }
            switch credential {
            case .oauth2(_, let sendToUpstream):
                guard let token = bearerToken(value) else {
                    reason = "not_bearer"
                    continue
                }
                let verified: VerifiedToken
                switch verify(token, keys: keys, now: now, asInternalKey: false, cache: cache) {
                case .success(let token): verified = token
                case .failure(let rejection):
                    reason = rejection
                    continue
                }
                // The first valid credential decides (Envoy's requires_any stops there): no fall-through to a key.
                guard operation.scopes.allSatisfy(verified.scopes(fromClaim: Self.scopesClaim).contains) else {
                    return .deny(.missingScope(target: operation.target), reason: "missing_scope")
                }
                if !sendToUpstream { removed.insert(credential.header) }
                return allow(Identity(kind: .oauth2, token: verified))
            case .internalKey:
                let verified: VerifiedToken
                switch verify(value, keys: keys, now: now, asInternalKey: true, cache: cache) {
                case .success(let token): verified = token
                case .failure(let rejection):
                    reason = rejection
                    continue
                }
                guard verified.claims["apiId"]?.stringValue == api.apiID else {
                    reason = "internal_key_of_another_api"
                    continue
                }
                guard verified.claims["keytype"]?.stringValue == keyType.rawValue else {
                    reason = "internal_key_of_another_environment"
                    continue
                }
                return allow(Identity(kind: .internalKey, token: verified))
            }
        }
        return .deny(.invalidCredentials, reason: reason)
    }

    /// `Bearer <token>`, the scheme spelled exactly so: RFC 6750 allows any case, but Envoy's `jwt_authn` matches the
    /// prefix exactly and both modes must answer the same (docs/enforcer-design.md).
    static func bearerToken(_ value: String) -> String? {
        guard value.count > 7, value.hasPrefix("Bearer ") else { return nil }
        let token = value.dropFirst(7).drop { $0 == " " }
        return token.isEmpty ? nil : String(token)
    }

    /// Signature, validity and issuer of a token: an access token from a trusted issuer that is not an internal key
    /// (`asInternalKey: false`), or an internal key of the internal-key issuer (`asInternalKey: true`). Failure: the reason.
    static func verify(
        _ token: String, keys: TrustedKeys, now: Double, asInternalKey: Bool, cache: VerificationCache? = nil
    ) -> Verification {
        let leeway = Double(clockSkewSeconds)
        if let cache {
            switch cache.lookup(token, internalKey: asInternalKey, generation: keys.generation, now: now, leeway: leeway) {
            case .hit(let verified): return .success(verified)
            case .invalid(let reason): return .failure(reason)
            case .miss: break
            }
        }
        do throws(TokenRejection) {
            let jws = try CompactJWS.parse(token)
            let issuer = jws.string("iss") ?? ""
            let entries = asInternalKey
                ? (issuer == keys.internalKeyIssuer ? keys.internalKeys : nil)
                : (issuer == keys.internalKeyIssuer ? nil : keys.accessTokenIssuers[issuer])
            guard let entries else { throw .unknownIssuer }
            let audiences = try TokenVerifier.check(
                jws, candidates: TrustedKeys.candidates(entries, kid: jws.keyID), now: now,
                leeway: leeway, checksIssuedAt: false)
            // Internal keys are kept out of the access-token path by their own issuer (never an access-token
            // issuer); an access token's audience is not checked (as in jwt_authn without `audiences`).
            guard !asInternalKey || audiences.contains(TokenVerifier.internalKeyAudience) else {
                return .failure("not_an_internal_key")
            }
            let verified = VerifiedToken(issuer: issuer, claims: jws.claims)
            if let cache, let expiry = jws.numericDate("exp") {  // `check` required `exp`
                cache.store(
                    token, internalKey: asInternalKey, generation: keys.generation,
                    entry: .init(token: verified, expiry: expiry, notBefore: jws.numericDate("nbf")))
            }
            return .success(verified)
        } catch {
            return .failure(error.reason)
        }
    }

    /// A verified token, or the reason label of its rejection.
    enum Verification {
        case success(VerifiedToken)
        case failure(String)
    }
}
