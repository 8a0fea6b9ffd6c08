import Foundation
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
    /// API-key issuers (`AUTH_API_KEY_ISSUERS`): `iss` → its keys. Never access-token issuers.
    package var apiKeyIssuers: [String: [Entry]]
    /// The organizations' `TokenIssuer`s: ``PlanIssuer/id`` → its keys. Trusted for an API only when its plan
    /// lists the issuer (``APIAuthPlan/issuers``).
    package var tokenIssuers: [String: [Entry]] = [:]
    /// Changes whenever the keys may have changed (a ``VerificationCache`` forgets what older keys verified).
    package var generation: UInt64

    package init(
        accessTokenIssuers: [String: [Entry]], internalKeyIssuer: String, internalKeys: [Entry],
        apiKeyIssuers: [String: [Entry]] = [:], generation: UInt64 = 0
    ) {
        self.accessTokenIssuers = accessTokenIssuers
        self.internalKeyIssuer = internalKeyIssuer
        self.internalKeys = internalKeys
        self.apiKeyIssuers = apiKeyIssuers
        self.generation = generation
    }

    /// Keys of `entries` a token with `kid` may be signed with: every key when the token names none, else the keys
    /// with that `kid` and those without one (a certificate's key), as `jwt_authn` chooses them.
    static func candidates(_ entries: [Entry], kid: String?) -> [VerificationKey] {
        guard let kid else { return entries.map(\.key) }
        return entries.filter { $0.kid == nil || $0.kid == kid }.map(\.key)
    }
}

/// One request as the evaluator sees it.
package struct AuthRequest: Sendable {
    package var method: String
    /// Header names in lower case, in arrival order (repeated names kept).
    package var headers: [(name: String, value: String)]
    /// The request path with its query (`/orders?apiKey=…`), for query-parameter API keys.
    package var path: String

    package init(method: String, headers: [(name: String, value: String)], path: String = "") {
        self.method = method.uppercased()
        self.headers = headers.map { ($0.name.lowercased(), $0.value) }
        self.path = path
    }

    func values(_ name: String) -> [String] { headers.filter { $0.name == name }.map(\.value) }

    /// The values of query parameter `name` (exact name; values percent-decoded, `+` kept).
    package func queryValues(_ name: String) -> [String] {
        guard let mark = path.firstIndex(of: "?") else { return [] }
        let query = path[path.index(after: mark)...].prefix { $0 != "#" }
        return query.split(separator: "&", omittingEmptySubsequences: true).compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts[0] == name else { return nil }
            let raw = parts.count > 1 ? String(parts[1]) : ""
            return raw.removingPercentEncoding ?? raw
        }
    }

    /// The credential's values in this request (none, one, or several: ambiguous).
    func values(of credential: Credential) -> [String] {
        switch credential {
        case .apiKey(.query(let name), _): queryValues(name)
        default: credential.header.map(values) ?? []
        }
    }
}

/// What the gateway's subscription stage reads (contract §7.5): set by `jwt_authn` (`claim_to_headers`) in
/// `native` mode and by the enforcer in `enforcer` mode, for OAuth2 and API-key callers only (the JWT type and
/// internal keys are not subscription-checked); client-sent `x-apk-*` headers never get this far.
package enum SubscriptionHeaders {
    /// The verified credential's issuer: present ⇒ the caller must be subscribed.
    package static let authenticated = "x-apk-auth"
    /// An access token's consumer key (client id).
    package static let consumerKey = "x-apk-consumer-key"
    /// An API key's application id (`application.uuid`).
    package static let application = "x-apk-application"
    package static let all = [authenticated, consumerKey, application]
    /// The claim naming an access token's client for the gateway's own issuers (an organization's `TokenIssuer`
    /// may name another: ``PlanIssuer/consumerKeyClaim``).
    package static let consumerKeyClaim = "azp"

    static func headers(for identity: Identity) -> [Denial.Header] {
        switch identity.kind {
        case .oauth2:
            var headers = [Denial.Header(name: authenticated, value: identity.issuer)]
            if let key = identity.consumerKey { headers.append(Denial.Header(name: consumerKey, value: key)) }
            return headers
        case .apiKey:
            var headers = [Denial.Header(name: authenticated, value: identity.issuer)]
            if case .string(let id)? = identity.claims["application"]?.objectValue?["uuid"], !id.isEmpty {
                headers.append(Denial.Header(name: application, value: id))
            }
            return headers
        case .jwt, .internalKey: return []
        }
    }

    /// The subscription stage's rule: a listed consumer key or application passes; any other authenticated caller
    /// does not; a request without these headers (JWT type, internal key) passes.
    package static func admits(_ headers: [Denial.Header], _ list: SubscriptionAllowList) -> Bool {
        func value(_ name: String) -> String? { headers.first { $0.name == name }?.value }
        if let key = value(consumerKey), list.consumerKeys.contains(key) { return true }
        if let id = value(application), list.applications.contains(id) { return true }
        return value(authenticated) == nil
    }
}

/// Which issuers may have signed a credential: kept apart, so that no kind of credential is accepted as another.
package enum TokenPool: Sendable, Hashable {
    /// Access tokens (OAuth2 and the JWT auth type): the API organization's issuers, never the internal-key issuer.
    case accessToken
    /// Internal keys: the internal-key issuer only, audience `apk-internal-key`.
    case internalKey
    /// API keys: the API-key issuers only.
    case apiKey
}

/// Who a request authenticated as.
package struct Identity: Sendable, Hashable {
    package enum Kind: String, Sendable, Hashable { case oauth2, jwt, apiKey, internalKey }
    package var kind: Kind
    package var issuer: String
    package var subject: String
    /// Granted scopes (``VerifiedToken/scopes``; none for internal keys, which are not scope-checked).
    package var scopes: [String]
    package var claims: JSONObject

    /// The client of an access token (its issuer's consumer-key claim), for subscription validation.
    package var consumerKey: String?

    /// `profile`: the organization issuer that verified the token (nil: one of the gateway's own issuers) — its
    /// scopes and consumer-key claims, and its claim renames applied to ``claims``.
    package init(kind: Kind, token: VerifiedToken, profile: PlanIssuer? = nil) {
        self.kind = kind
        issuer = token.issuer
        subject = token.subject
        scopes = kind == .oauth2 ? token.scopes(fromClaim: profile?.scopes ?? AuthEvaluator.scopesClaim) : []
        if kind == .oauth2, case .string(let key)? = token.claims[profile?.consumerKey ?? SubscriptionHeaders.consumerKeyClaim],
            !key.isEmpty
        {
            consumerKey = key
        }
        claims = profile?.mapped(token.claims) ?? token.claims
    }
}

/// What happens to an allowed request before it goes upstream.
package struct Allowance: Sendable, Hashable {
    /// Request headers to remove: every client-sent `x-apk-*` header, internal keys (on secured operations) and
    /// access tokens the API does not send upstream.
    package var removeHeaders: [String]
    /// Query parameters to remove: an API key read from the query that the API does not send upstream.
    package var removeQueryParameters: [String] = []
    /// Request headers to set for the gateway's subscription stage (``SubscriptionHeaders``), on APIs with
    /// subscription validation only; removed again before the upstream.
    package var setHeaders: [Denial.Header] = []
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
    /// `subscribers`: the allow-list of the route's key type when the API validates subscriptions; nil: not checked
    /// here (the gateway's subscription stage checks the headers of ``Allowance/setHeaders``).
    package static func decide(
        api: APIAuthPlan, operation: OperationAuthPlan, keyType: KeyType, request: AuthRequest,
        keys: TrustedKeys, now: Double, cache: VerificationCache? = nil, subscribers: SubscriptionAllowList? = nil
    ) -> Decision {
        var removed = Set(request.headers.map(\.name).filter { $0.hasPrefix("x-apk-") })
        var removedParameters: Set<String> = []
        func allow(_ identity: Identity?) -> Decision {
            var allowance = Allowance(
                removeHeaders: removed.sorted(), removeQueryParameters: removedParameters.sorted(), identity: identity)
            if api.subscriptionValidation, let identity {
                allowance.setHeaders = SubscriptionHeaders.headers(for: identity)
                if let subscribers, !SubscriptionHeaders.admits(allowance.setHeaders, subscribers) {
                    return .deny(.notSubscribed, reason: "not_subscribed")
                }
            }
            return .allow(allowance)
        }
        if request.method == "OPTIONS" || api.disabled || !operation.secured { return allow(nil) }
        // Credentials the API does not send upstream are removed whichever credential decides (as the native routes
        // do); internal keys are the gateway's own credential and never reach a backend.
        // Each credential's values in the request, read once (the enforcer decides every secured request).
        let presented = api.credentials.map { request.values(of: $0) }
        for (credential, values) in zip(api.credentials, presented) where !values.isEmpty {
            switch credential {
            case .internalKey(let header): removed.insert(header.lowercased())
            case .oauth2(let header, false), .jwt(let header, false, _): removed.insert(header.lowercased())
            case .apiKey(.header(let name), false): removed.insert(name.lowercased())
            case .apiKey(.query(let name), false): removedParameters.insert(name)
            default: break
            }
        }
        var reason = "missing"
        for (credential, values) in zip(api.credentials, presented) {
            guard !values.isEmpty else { continue }
            guard values.count == 1, let value = values.first else {
                reason = "duplicate_credential"  // sent twice: ambiguous, counts as not sent
                continue
            }
            let token: String
            let pool: TokenPool
            switch credential {
            case .oauth2:
                guard let bearer = bearerToken(value) else {
                    reason = "not_bearer"
                    continue
                }
                (token, pool) = (bearer, .accessToken)
            case .jwt: (token, pool) = (value, .accessToken)
            case .apiKey: (token, pool) = (value, .apiKey)
            case .internalKey: (token, pool) = (value, .internalKey)
            }
            let verified: VerifiedToken
            switch verify(token, keys: keys, now: now, pool: pool, cache: cache, issuers: api.issuers ?? []) {
            case .success(let token): verified = token
            case .failure(let rejection):
                reason = rejection
                continue
            }
            // The organization issuer that signed it (nil: one of the gateway's own): its claim rules apply.
            let profile = pool == .accessToken ? api.issuers?.first { $0.issuer == verified.issuer } : nil
            // The first valid credential decides (Envoy's requires_any stops there): what follows is not tried.
            switch credential {
            case .oauth2:
                let identity = Identity(kind: .oauth2, token: verified, profile: profile)
                guard operation.scopes.allSatisfy(identity.scopes.contains) else {
                    return .deny(.missingScope(target: operation.target), reason: "missing_scope")
                }
                return allow(identity)
            case .jwt(_, _, let audiences):
                guard audiences.isEmpty || !Set(Self.audiences(verified.claims["aud"])).isDisjoint(with: audiences) else {
                    return .deny(.invalidCredentials, reason: "wrong_audience")
                }
                return allow(Identity(kind: .jwt, token: verified, profile: profile))
            case .apiKey:
                if let keytype = verified.claims["keytype"], keytype != .string(keyType.rawValue) {
                    return .deny(.invalidCredentials, reason: "api_key_of_another_environment")
                }
                return allow(Identity(kind: .apiKey, token: verified))
            case .internalKey:
                guard verified.claims["apiId"]?.stringValue == api.apiID else {
                    return .deny(.invalidCredentials, reason: "internal_key_of_another_api")
                }
                guard verified.claims["keytype"]?.stringValue == keyType.rawValue else {
                    return .deny(.invalidCredentials, reason: "internal_key_of_another_environment")
                }
                return allow(Identity(kind: .internalKey, token: verified))
            }
        }
        return .deny(.invalidCredentials, reason: reason)
    }

    /// `aud` as a list (a string or an array of strings).
    static func audiences(_ claim: JSONValue?) -> [String] {
        switch claim {
        case .string(let value): [value]
        case .array(let values): values.compactMap(\.stringValue)
        default: []
        }
    }

    /// `Bearer <token>`, the scheme spelled exactly so: RFC 6750 allows any case, but Envoy's `jwt_authn` matches the
    /// prefix exactly and both modes must answer the same (docs/enforcer-design.md).
    static func bearerToken(_ value: String) -> String? {
        guard value.count > 7, value.hasPrefix("Bearer ") else { return nil }
        let token = value.dropFirst(7).drop { $0 == " " }
        return token.isEmpty ? nil : String(token)
    }

    /// Signature, validity and issuer of a token of `pool`: an access token from a trusted issuer (never the
    /// internal-key or an API-key issuer), an internal key of the internal-key issuer with audience
    /// `apk-internal-key`, or an API key of an API-key issuer. Failure: the reason.
    ///
    /// `issuers`: the organization issuers the API trusts besides the gateway's own (access tokens only). When two
    /// name the same `iss`, the keys of both are tried.
    static func verify(
        _ token: String, keys: TrustedKeys, now: Double, pool: TokenPool, cache: VerificationCache? = nil,
        issuers: [PlanIssuer] = []
    ) -> Verification {
        let leeway = Double(clockSkewSeconds)
        let trust = pool == .accessToken ? trustKey(issuers) : ""
        if let cache {
            switch cache.lookup(token, pool: pool, trust: trust, generation: keys.generation, now: now, leeway: leeway) {
            case .hit(let verified): return .success(verified)
            case .invalid(let reason): return .failure(reason)
            case .miss: break
            }
        }
        do throws(TokenRejection) {
            let jws = try CompactJWS.parse(token)
            let issuer = jws.string("iss") ?? ""
            let entries: [TrustedKeys.Entry]?
            switch pool {
            case .accessToken:
                if issuer == keys.internalKeyIssuer {
                    entries = nil
                } else if let gateway = keys.accessTokenIssuers[issuer] {
                    entries = gateway
                } else {
                    let own = issuers.filter { $0.issuer == issuer }.compactMap { keys.tokenIssuers[$0.id] }
                    entries = own.isEmpty ? nil : own.flatMap(\.self)
                }
            case .internalKey: entries = issuer == keys.internalKeyIssuer ? keys.internalKeys : nil
            case .apiKey: entries = keys.apiKeyIssuers[issuer]
            }
            guard let entries else { throw .unknownIssuer }
            let audiences = try TokenVerifier.check(
                jws, candidates: TrustedKeys.candidates(entries, kid: jws.keyID), now: now,
                leeway: leeway, checksIssuedAt: false)
            // Internal keys are kept out of the access-token path by their own issuer (never an access-token
            // issuer); an access token's audience is not checked (as in jwt_authn without `audiences`).
            guard pool != .internalKey || audiences.contains(TokenVerifier.internalKeyAudience) else {
                return .failure("not_an_internal_key")
            }
            let verified = VerifiedToken(issuer: issuer, claims: jws.claims)
            if let cache, let expiry = jws.numericDate("exp") {  // `check` required `exp`
                cache.store(
                    token, pool: pool, trust: trust, generation: keys.generation,
                    entry: .init(token: verified, expiry: expiry, notBefore: jws.numericDate("nbf")))
            }
            return .success(verified)
        } catch {
            return .failure(error.reason)
        }
    }

    /// What a verification was judged against besides the gateway's issuers (the cache keeps results apart by it).
    static func trustKey(_ issuers: [PlanIssuer]) -> String {
        issuers.isEmpty ? "" : issuers.map(\.id).joined(separator: "\u{0}")
    }

    /// A verified token, or the reason label of its rejection.
    enum Verification {
        case success(VerifiedToken)
        case failure(String)
    }
}
