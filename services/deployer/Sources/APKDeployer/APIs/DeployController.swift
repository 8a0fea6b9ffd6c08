import APKModel
import APKRuntime
import Foundation
package import Hummingbird
import Logging
import NIOCore
import APKConversion

/// The deployer REST API (contract §3) under `/api/deployer/apis/` and the versioned alias
/// `/api/deployer/1.3.0/apis/`: deploy, undeploy and (ours) list.
package struct DeployController<Context: RequestContext>: Sendable {
    /// Path prefixes every endpoint is served under.
    package static var prefixes: [String] { ["/api/deployer/apis", "/api/deployer/1.3.0/apis"] }
    /// Scope that deploy and undeploy require (§3.1).
    package static var createScope: String { "apk:api_create" }
    /// Scopes that may list APIs.
    package static var viewScopes: Set<String> { ["apk:api_create", "apk:api_view"] }

    package let service: APIService
    package let authenticator: CallerAuthenticator
    package let form: DeployForm

    package init(service: APIService, authenticator: CallerAuthenticator, form: DeployForm) {
        self.service = service
        self.authenticator = authenticator
        self.form = form
    }

    package func addRoutes(to router: Router<Context>) {
        for prefix in Self.prefixes {
            let group = router.group(RouterPath(prefix))
            group.post("deploy") { request, context in try await deploy(request, context: context) }
            group.post("undeploy") { request, context in try await undeploy(request, context: context) }
            group.get { request, context in try await list(request, context: context) }
        }
    }

    /// §3.2: multipart `apkConfiguration` + `definitionFile` → 200 `application/yaml`.
    func deploy(_ request: Request, context: Context) async throws -> Response {
        let caller = try await authenticator.authenticate(
            request, anyOf: [Self.createScope], resource: "/apis/deploy", logger: context.logger)
        let clock = ContinuousClock()
        do {
            let parts = try await form.read(request)
            let start = clock.now
            let deployed = try await service.deploy(
                conf: parts.apkConfiguration, definition: parts.definitionFile, caller: caller, logger: context.logger)
            DeployerMetrics.recordDeploy(duration: clock.now - start)
            DeployerMetrics.countDeploy(result: "success")
            return Response.bytes(ByteBuffer(string: deployed.yaml()), contentType: "application/yaml")
        } catch {
            DeployerMetrics.countDeploy(result: (error as? APKError).map { String($0.code) } ?? "900900")
            throw error
        }
    }

    /// §3.3: `?apiId=<id>` → 202 `{"status":"API with id <id> undeployed successfully"}`.
    func undeploy(_ request: Request, context: Context) async throws -> Response {
        let caller = try await authenticator.authenticate(
            request, anyOf: [Self.createScope], resource: "/apis/undeploy", logger: context.logger)
        do {
            guard let id = request.uri.queryParameters.get("apiId"), !id.isEmpty else {
                throw APKError.missingParameter("apiId")
            }
            try await service.undeploy(id: id, caller: caller, logger: context.logger)
            DeployerMetrics.countUndeploy(result: "success")
            return Response.json(["status": .string("API with id \(id) undeployed successfully")], status: .accepted)
        } catch {
            DeployerMetrics.countUndeploy(result: (error as? APKError).map { String($0.code) } ?? "900900")
            throw error
        }
    }

    /// Ours: `{"count":N,"list":[{"id","name","version","basePath","organization","environment","updatedTime"}]}`.
    func list(_ request: Request, context: Context) async throws -> Response {
        let caller = try await authenticator.authenticate(
            request, anyOf: Self.viewScopes, resource: "/apis", logger: context.logger)
        let apis = try await service.list(organization: caller.organization)
        return Response.json(APISummary.listBody(apis.map(\.deployerJSON)))
    }
}
