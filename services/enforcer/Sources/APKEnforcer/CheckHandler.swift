package import APKAuthPlan
package import EnvoyProtos
import Foundation
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
        guard let text = request.attributes.contextExtensions[RoutePlan.contextKey], let plan = plan(text) else {
            return (Self.denied(Self.noPlanDenial), .noPlan)
        }
        let decision = AuthEvaluator.decide(
            api: plan.api, operation: plan.operation, keyType: plan.keyType,
            request: AuthRequest(method: http.method, headers: Self.headers(http)), keys: keys, now: now, cache: verified)
        switch decision {
        case .allow(let allowance):
            var response = Envoy_Service_Auth_V3_CheckResponse()
            response.status.code = 0  // OK
            response.okResponse.headersToRemove = allowance.removeHeaders
            if let jwtPlan = plan.api.backendJWT, let identity = allowance.identity {
                let token: String
                do {
                    guard let backendJWT else { throw BackendJWTSigner.Failure("no backend-JWT signer is configured") }
                    token = try backendJWT.token(
                        plan: jwtPlan, apiID: plan.api.apiID, identity: identity, keyType: plan.keyType, now: Int(now))
                } catch {
                    // Never forwarded without it.
                    return (Self.denied(Self.noBackendJWTDenial), .backendJWTFailed(String(describing: error)))
                }
                var header = Envoy_Config_Core_V3_HeaderValueOption()
                header.header.key = jwtPlan.header
                header.header.value = token
                header.appendAction = .overwriteIfExistsOrAdd
                response.okResponse.headers = [header]
            }
            return (response, .allowed)
        case .deny(let denial, let reason):
            return (Self.denied(denial), .denied(reason: reason))
        }
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
