import APKAuth
package import APKAuthPlan
import APKModel
package import EnvoyProtos
import Foundation
import SwiftProtobuf
import Synchronization

/// One ext_authz `Check`, decided by ``AuthEvaluator`` with the plan the route carries (``RoutePlan``): the same
/// evaluation the adapter compiles into Envoy's native filters, so both enforcement modes answer alike
/// (`AuthDifferentialTests`). Pure apart from the plan cache; no I/O.
package final class CheckHandler: Sendable {
    /// What became of one `Check` (a low-cardinality label for metrics and logs; never the token).
    package enum Outcome: Sendable, Hashable {
        case allowed
        case denied(reason: String)
        /// The route carries no readable plan: a gateway fault, answered 500 and never forwarded.
        case noPlan
        /// The API's backend JWT could not be issued (the reason, never a token): answered 500, never forwarded.
        case backendJWTFailed(String)
    }

    /// Decoded plans by their context-extension text: a route's plan is decoded once, not per request. Bounded:
    /// emptied when full (a gateway has at most a few plans per operation).
    private let plans = Mutex<[String: RoutePlan]>([:])
    private let planCacheLimit: Int
    /// Verified credentials reused across requests (what `jwt_authn`'s JWT cache does natively).
    package let verified: VerificationCache

    /// Signs the backend JWTs of APIs that ask for one.
    private let backendJWT: BackendJWTSigner?

    package init(planCacheLimit: Int = 20_000, verificationCacheLimit: Int = 10_000, backendJWT: BackendJWTSigner? = nil) {
        self.planCacheLimit = planCacheLimit
        verified = VerificationCache(limit: verificationCacheLimit)
        self.backendJWT = backendJWT
    }

    /// The answer to `request` with `keys` at `now` (seconds since 1970).
    package func check(
        _ request: Envoy_Service_Auth_V3_CheckRequest, keys: TrustedKeys, now: Double
    ) -> (response: Envoy_Service_Auth_V3_CheckResponse, outcome: Outcome) {
        let http = request.attributes.request.http
        if let text = request.attributes.contextExtensions[BackendJWTRoute.contextKey] {
            return backendJWTOnly(text, metadata: request.attributes.metadataContext, now: now)
        }
        guard let text = request.attributes.contextExtensions[RoutePlan.contextKey], let plan = plan(text) else {
            return (Self.denied(Self.noPlanDenial), .noPlan)
        }
        let decision = AuthEvaluator.decide(
            api: plan.api, operation: plan.operation, keyType: plan.keyType,
            request: AuthRequest(method: http.method, headers: Self.headers(http), path: http.path), keys: keys, now: now,
            cache: verified)
        switch decision {
        case .allow(let allowance):
            var response = Envoy_Service_Auth_V3_CheckResponse()
            response.status.code = 0  // OK
            response.okResponse.headersToRemove = allowance.removeHeaders
            response.okResponse.queryParametersToRemove = allowance.removeQueryParameters
            // What the gateway's subscription stage reads (APIs with subscription validation only).
            response.okResponse.headers = allowance.setHeaders.map { header in
                var option = Envoy_Config_Core_V3_HeaderValueOption()
                option.header.key = header.name
                option.header.value = header.value
                option.appendAction = .overwriteIfExistsOrAdd
                return option
            }
            if let jwtPlan = plan.operation.backendJWT ?? plan.api.backendJWT, let identity = allowance.identity {
                let token: String
                do {
                    token = try sign(jwtPlan, apiID: plan.api.apiID, identity: identity, keyType: plan.keyType, now: now).token
                } catch {
                    // Never forwarded without it.
                    return (Self.denied(Self.noBackendJWTDenial), .backendJWTFailed(String(describing: error)))
                }
                var header = Envoy_Config_Core_V3_HeaderValueOption()
                header.header.key = jwtPlan.header
                header.header.value = token
                header.appendAction = .overwriteIfExistsOrAdd
                response.okResponse.headers.append(header)
            }
            return (response, .allowed)
        case .deny(let denial, let reason):
            return (Self.denied(denial), .denied(reason: reason))
        }
    }

    /// What the `native` mode's per-worker cache (the router's `apk.backend_jwt` Lua stage) asks on a miss: the
    /// backend JWT for the credential of a request Envoy's filters already allowed on a route with `planText`. The
    /// whole plan is evaluated again (the same evaluator, the same keys), so the token describes exactly the
    /// credential that decides; nil answer: not allowed (a gateway inconsistency, answered 500 by the router).
    package func backendJWT(
        planText: String, headers: [(name: String, value: String)], path: String, keys: TrustedKeys, now: Double
    ) -> (result: (token: String, refreshAt: Int)?, outcome: Outcome) {
        guard let plan = plan(planText), let jwtPlan = plan.operation.backendJWT ?? plan.api.backendJWT else {
            return (nil, .noPlan)
        }
        let decision = AuthEvaluator.decide(
            api: plan.api, operation: plan.operation, keyType: plan.keyType,
            request: AuthRequest(method: "GET", headers: headers, path: path), keys: keys, now: now, cache: verified)
        switch decision {
        case .deny(_, let reason): return (nil, .denied(reason: reason))
        case .allow(let allowance):
            guard let identity = allowance.identity else { return (nil, .denied(reason: "no_identity")) }
            do {
                return (try sign(jwtPlan, apiID: plan.api.apiID, identity: identity, keyType: plan.keyType, now: now), .allowed)
            } catch {
                return (nil, .backendJWTFailed(String(describing: error)))
            }
        }
    }

    /// The backend JWT for `identity` (``BackendJWTSigner/issued(plan:apiID:identity:keyType:now:)``); throws without
    /// a signer or when signing fails.
    private func sign(
        _ plan: BackendJWTPlan, apiID: String, identity: Identity, keyType: KeyType, now: Double
    ) throws -> (token: String, refreshAt: Int) {
        guard let backendJWT else { throw BackendJWTSigner.Failure("no backend-JWT signer is configured") }
        return try backendJWT.issued(plan: plan, apiID: apiID, identity: identity, keyType: keyType, now: Int(now))
    }

    /// A `native`-mode backend-JWT route: Envoy's filters have allowed the request; the identity is the payload
    /// `jwt_authn` verified (metadata context), never a header the client sent.
    private func backendJWTOnly(
        _ text: String, metadata: Envoy_Config_Core_V3_Metadata, now: Double
    ) -> (response: Envoy_Service_Auth_V3_CheckResponse, outcome: Outcome) {
        guard let route = BackendJWTRoute.decode(text) else { return (Self.denied(Self.noPlanDenial), .noPlan) }
        guard let identity = Self.verifiedIdentity(metadata, issuers: route.issuers ?? []) else {
            // Only reachable when the route's filters were bypassed: never forwarded.
            return (Self.denied(Self.noBackendJWTDenial), .backendJWTFailed("no verified payload in the metadata context"))
        }
        do {
            let token = try sign(route.plan, apiID: route.apiID, identity: identity, keyType: route.keyType, now: now).token
            return (Self.allowed(header: route.plan.header, token: token), .allowed)
        } catch {
            return (Self.denied(Self.noBackendJWTDenial), .backendJWTFailed(String(describing: error)))
        }
    }

    /// Metadata keys of `jwt_authn`'s verified payloads (the adapter's `payload_in_metadata` values).
    static let jwtAuthnNamespace = "envoy.filters.http.jwt_authn"
    static let accessTokenPayload = "apk_token"
    static let internalKeyPayload = "apk_internal_key"
    static let jwtPayload = "apk_jwt"
    static let apiKeyPayload = "apk_api_key"

    /// The identity of the credential `jwt_authn` accepted (one payload is set: `requires_any` stops at the first).
    /// `jwt_authn` hands a space-delimited `scope` over as a list (`normalize_payload_in_metadata`); it is joined
    /// again so that the backend JWT says what `enforcer` mode's would.
    /// `issuers`: the API's organization issuers, whose claim rules apply to a payload they signed.
    static func verifiedIdentity(_ metadata: Envoy_Config_Core_V3_Metadata, issuers: [PlanIssuer] = []) -> Identity? {
        guard let payloads = metadata.filterMetadata[jwtAuthnNamespace]?.fields else { return nil }
        let kinds: [(String, Identity.Kind)] = [
            (accessTokenPayload, .oauth2), (jwtPayload, .jwt), (apiKeyPayload, .apiKey), (internalKeyPayload, .internalKey),
        ]
        for (key, kind) in kinds {
            guard case .structValue(let payload)? = payloads[key]?.kind else { continue }
            var claims = JSONObject()
            for (name, value) in payload.fields { claims[name] = json(value) }
            if case .array(let scopes)? = claims["scope"] {
                claims["scope"] = .string(scopes.compactMap(\.stringValue).joined(separator: " "))
            }
            guard case .string(let issuer)? = claims["iss"] else { return nil }
            let profile = kind == .oauth2 || kind == .jwt ? issuers.first { $0.issuer == issuer } : nil
            return Identity(kind: kind, token: VerifiedToken(issuer: issuer, claims: claims), profile: profile)
        }
        return nil
    }

    /// A protobuf `Value` as JSON; whole numbers stay integers (`exp`, `iat`).
    static func json(_ value: Google_Protobuf_Value) -> JSONValue {
        switch value.kind {
        case .stringValue(let text): return .string(text)
        case .boolValue(let flag): return .bool(flag)
        case .numberValue(let number):
            if number.rounded() == number, abs(number) < 9.0e15 { return .int(Int(number)) }
            return .double(number)
        case .listValue(let list): return .array(list.values.map(json))
        case .structValue(let object):
            var result = JSONObject()
            for (name, item) in object.fields { result[name] = json(item) }
            return .object(result)
        case .nullValue, nil: return .null
        }
    }

    static func allowed(header: String, token: String) -> Envoy_Service_Auth_V3_CheckResponse {
        var response = Envoy_Service_Auth_V3_CheckResponse()
        response.status.code = 0  // OK
        var option = Envoy_Config_Core_V3_HeaderValueOption()
        option.header.key = header
        option.header.value = token
        option.appendAction = .overwriteIfExistsOrAdd
        response.okResponse.headers = [option]
        return response
    }

    /// The request headers in arrival order: the raw entries (`encode_raw_headers`, repeated names kept) when Envoy
    /// sends them, else its map (where repeated headers arrive joined with commas).
    static func headers(_ http: Envoy_Service_Auth_V3_AttributeContext.HttpRequest) -> [(name: String, value: String)] {
        if http.hasHeaderMap {
            return http.headerMap.headers.map { header in
                (header.key, header.rawValue.isEmpty ? header.value : String(decoding: header.rawValue, as: UTF8.self))
            }
        }
        return http.headers.map { ($0.key, $0.value) }
    }

    private func plan(_ text: String) -> RoutePlan? {
        if let cached = plans.withLock({ $0[text] }) { return cached }
        guard let decoded = RoutePlan.decode(text) else { return nil }
        plans.withLock { plans in
            if plans.count >= planCacheLimit { plans.removeAll(keepingCapacity: true) }
            plans[text] = decoded
        }
        return decoded
    }

    /// A route without a readable plan: fail closed with a 500 (the gateway's fault, not the caller's).
    static let noPlanDenial = Denial(
        status: 500, code: 900900, message: "Unclassified Authentication Failure",
        description: "The gateway has no security plan for this resource", headers: [])

    /// The API asks for a backend JWT that this enforcer cannot sign: fail closed with a 500.
    static let noBackendJWTDenial = Denial(
        status: 500, code: 900900, message: "Unclassified Authentication Failure",
        description: "The gateway could not issue the backend token for this resource", headers: [])

    /// A denied `Check`: Envoy answers with the denial's status, headers and exact body (contract §7.6).
    static func denied(_ denial: Denial) -> Envoy_Service_Auth_V3_CheckResponse {
        var response = Envoy_Service_Auth_V3_CheckResponse()
        response.status.code = denial.status == 401 ? 16 : 7  // UNAUTHENTICATED : PERMISSION_DENIED
        response.deniedResponse.status.code = Envoy_Type_V3_StatusCode(rawValue: denial.status) ?? .forbidden
        response.deniedResponse.headers = ([Denial.Header(name: "content-type", value: Denial.contentType)] + denial.headers)
            .map { header in
                var option = Envoy_Config_Core_V3_HeaderValueOption()
                option.header.key = header.name
                option.header.value = header.value
                option.appendAction = .overwriteIfExistsOrAdd
                return option
            }
        response.deniedResponse.body = denial.body
        return response
    }
}
