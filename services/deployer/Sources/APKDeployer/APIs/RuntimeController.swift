import APKModel
import APKRuntime
import APKStore
package import Foundation
package import Hummingbird
import Logging
import APKAuth
import APKSupport

/// The runtime APIs of the quick start ("Our decisions"): `GET /api/runtime/apis` and
/// `POST /api/runtime/apis/{id}/generate-key` → `{"apikey":"<internal key>"}`.
///
/// An internal key is an RS256 JWT signed with the deployer's active key: `iss`, `sub` (the caller), `aud`
/// `apk-internal-key`, `iat`, `exp`, `jti`, `apiId`, `organization`, `keytype: PRODUCTION`; it is recorded (by
/// `jti`) so that it can be listed and revoked.
package struct RuntimeController<Context: RequestContext>: Sendable {
    /// Scopes that may list APIs (any one of them).
    package static var viewScopes: Set<String> { ["apk:api_view", "apk:api_create"] }
    /// Scopes that may mint internal keys (any one of them): subscribing is what a key stands for.
    package static var keyScopes: Set<String> { ["apk:subscribe", "apk:api_create"] }

    package let service: APIService
    package let authenticator: CallerAuthenticator
    package let keys: SigningKeyManager
    /// `iss` of internal keys (`internal.key.issuer`, never the access-token issuer).
    package let issuer: String
    /// Lifetime of internal keys.
    package let keyTTL: Duration
    private let now: @Sendable () -> Date

    package init(
        service: APIService, authenticator: CallerAuthenticator, keys: SigningKeyManager, issuer: String,
        keyTTL: Duration, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.service = service
        self.authenticator = authenticator
        self.keys = keys
        self.issuer = issuer
        self.keyTTL = keyTTL
        self.now = now
    }

    package func addRoutes(to router: Router<Context>) {
        let group = router.group("api/runtime/apis")
        group.get { request, context in try await list(request, context: context) }
        group.get(":id") { request, context in try await api(request, context: context) }
        group.post(":id/generate-key") { request, context in try await generateKey(request, context: context) }
    }

    func list(_ request: Request, context: Context) async throws -> Response {
        let caller = try await authenticator.authenticate(
            request, anyOf: Self.viewScopes, resource: "/apis", logger: context.logger)
        let apis = try await service.list(organization: caller.organization)
        return Response.json(APISummary.listBody(apis.map(\.runtimeJSON)))
    }

    /// One API of the caller's organization with the gateway's status of its last deploy (404 909001 otherwise).
    func api(_ request: Request, context: Context) async throws -> Response {
        let caller = try await authenticator.authenticate(
            request, anyOf: Self.viewScopes, resource: "/apis/{apiId}", logger: context.logger)
        let api = try await service.api(id: context.parameters.get("id") ?? "", organization: caller.organization)
        return Response.json(api.runtimeDetailJSON)
    }

    func generateKey(_ request: Request, context: Context) async throws -> Response {
        let caller = try await authenticator.authenticate(
            request, anyOf: Self.keyScopes, resource: "/apis/{apiId}/generate-key", logger: context.logger)
        let id = context.parameters.get("id") ?? ""
        let api = try await service.api(id: id, organization: caller.organization)
        let issuedAt = now()
        let expiresAt = issuedAt.addingTimeInterval(keyTTL.seconds)
        let record = InternalKeyRecord(
            jti: UUID().uuidString.lowercased(), apiID: api.id, organization: caller.organization,
            subject: caller.subject, issuedAt: issuedAt, expiresAt: expiresAt)
        let token: String
        do {
            let signer = try await keys.activeSigner()
            token = try signer.sign(claims(record))
            try await service.controlPlane.recordInternalKey(record)
        } catch let error as StoreError {
            throw APKError.store(error)
        }
        DeployerMetrics.countTokenIssued(kind: "internal_key")
        context.logger.info(
            "internal key issued", metadata: ["apk.api.id": .string(api.id), "apk.key.jti": .string(record.jti)])
        return Response.json(["apikey": .string(token)])
    }

    private func claims(_ record: InternalKeyRecord) -> JSONObject {
        JSONObject([
            ("iss", .string(issuer)), ("sub", .string(record.subject)), ("aud", .string(TokenVerifier.internalKeyAudience)),
            ("iat", .int(Int(record.issuedAt.timeIntervalSince1970))),
            ("exp", .int(Int(record.expiresAt.timeIntervalSince1970))), ("jti", .string(record.jti)),
            ("apiId", .string(record.apiID)), ("organization", .string(record.organization)), ("keytype", "PRODUCTION"),
        ])
    }
}
