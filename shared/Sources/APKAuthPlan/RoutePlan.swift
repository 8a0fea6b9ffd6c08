import Foundation

/// What one route of the gateway asks of a request, complete: the API's plan, the operation's and the environment.
///
/// In `enforcer` mode the adapter puts it on the route itself (ext_authz context extension ``contextKey``), so the
/// enforcer evaluates exactly the plan of the route Envoy matched, from the same snapshot: there is no second
/// channel that could lag behind a deploy, and the enforcer keeps no per-API state. The encoding is compact JSON
/// with sorted keys (equal plans ⇒ equal bytes ⇒ equal route configurations and content versions).
package struct RoutePlan: Sendable, Hashable, Codable {
    /// The ext_authz `context_extensions` key the adapter writes and the enforcer reads.
    package static let contextKey = "apk.plan"
    /// The longest encoding the enforcer accepts (a route's plan is a few hundred bytes).
    package static let maxEncodedBytes = 16 * 1024

    package var api: APIAuthPlan
    package var operation: OperationAuthPlan
    package var keyType: KeyType

    package init(api: APIAuthPlan, operation: OperationAuthPlan, keyType: KeyType) {
        self.api = api
        self.operation = operation
        self.keyType = keyType
    }

    /// The context-extension value.
    package func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Reads a context-extension value; nil when it is not a plan (too long, not JSON, missing fields).
    package static func decode(_ text: String) -> RoutePlan? {
        guard text.utf8.count <= maxEncodedBytes else { return nil }
        return try? JSONDecoder().decode(RoutePlan.self, from: Data(text.utf8))
    }
}

/// What a `native`-mode route whose API has a backend JWT asks of the enforcer: only the token. Envoy's own filters
/// have already authenticated and authorized the request; the enforcer signs the JWT from the payload `jwt_authn`
/// verified (sent as ext_authz metadata context), so the credential is never verified twice.
package struct BackendJWTRoute: Sendable, Hashable, Codable {
    /// The ext_authz `context_extensions` key of such routes (a route carries this or ``RoutePlan/contextKey``).
    package static let contextKey = "apk.backend_jwt"

    package var apiID: String
    package var keyType: KeyType
    package var plan: BackendJWTPlan
    /// The API's organization issuers (their claim rules apply to the verified payload); nil: none.
    package var issuers: [PlanIssuer]?

    package init(apiID: String, keyType: KeyType, plan: BackendJWTPlan, issuers: [PlanIssuer]? = nil) {
        self.apiID = apiID
        self.keyType = keyType
        self.plan = plan
        self.issuers = issuers
    }

    package func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    package static func decode(_ text: String) -> BackendJWTRoute? {
        guard text.utf8.count <= RoutePlan.maxEncodedBytes else { return nil }
        return try? JSONDecoder().decode(BackendJWTRoute.self, from: Data(text.utf8))
    }
}
