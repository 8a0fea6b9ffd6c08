import APKModel
package import Hummingbird
package import Logging
import NIOCore
package import Prometheus
package import ServiceLifecycle

/// The operational endpoints every APK service serves (ARCHITECTURE.md, contract §2.3):
///
/// - `GET /health` → 200 `{"health":"Ok"}` while the process serves requests;
/// - `GET /ready` → 200 `{"ready":true}` when `readiness` says so, else 503 `{"ready":false}`;
/// - `GET /metrics` → the registry in Prometheus text format (`text/plain; version=0.0.4`).
package struct OpsRoutes: Sendable {
    package var readiness: @Sendable () async -> Bool
    package var registry: PrometheusCollectorRegistry

    package init(
        registry: PrometheusCollectorRegistry = APKMetrics.registry,
        readiness: @escaping @Sendable () async -> Bool = { true }
    ) {
        self.registry = registry
        self.readiness = readiness
    }

    /// Adds the three routes at the root of `router`.
    package func add<Context: RequestContext>(to router: Router<Context>) {
        router.get("health") { _, _ in
            Response.json(["health": "Ok"])
        }
        let readiness = self.readiness
        router.get("ready") { _, _ in
            await readiness() ? Response.json(["ready": true]) : Response.json(["ready": false], status: .serviceUnavailable)
        }
        let registry = self.registry
        router.get("metrics") { _, _ in
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return Response.bytes(ByteBuffer(bytes: bytes), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
    }
}

extension APKServer {
    /// The server of a service whose HTTP port serves only the ops routes (adapter, enforcer): `/health`, `/ready`
    /// per `readiness`, `/metrics`, with APK error bodies for everything else.
    /// `routes` adds the service's own routes beside them (the enforcer's `/jwks`).
    package static func opsApplication(
        settings: HTTPServerSettings, serverName: String, logger: Logger, readiness: @escaping @Sendable () async -> Bool,
        routes: (Router<BasicRequestContext>) -> Void = { _ in }
    ) throws -> any Service {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APKErrorMiddleware())
        OpsRoutes(readiness: readiness).add(to: router)
        routes(router)
        return application(
            router: router, settings: settings, server: try serverBuilder(for: settings), serverName: serverName,
            logger: logger)
    }
}
