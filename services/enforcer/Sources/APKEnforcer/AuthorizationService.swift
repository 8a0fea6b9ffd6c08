package import APKUnaryGRPC
import EnvoyGRPC
package import EnvoyProtos
import Foundation
package import GRPCCore
package import Logging
import Metrics

/// `envoy.service.auth.v3.Authorization/Check`, as Envoy's ext_authz filter calls it on secured routes in
/// `enforcer` mode: the route's plan (context extension), the request's credential headers, the current keys.
/// Served by the lean unary server (``checkMethod``, default) or by grpc-swift-2 (`GRPC_SERVER=grpc-swift`).
package struct AuthorizationService: Envoy_Service_Auth_V3_Authorization.SimpleServiceProtocol {
    private let handler: CheckHandler
    private let keys: KeyRing
    private let logger: Logger
    private let metrics = EnforcerMetrics()

    package init(handler: CheckHandler, keys: KeyRing, logger: Logger) {
        self.handler = handler
        self.keys = keys
        self.logger = logger
    }

    package func check(
        request: Envoy_Service_Auth_V3_CheckRequest, context: ServerContext
    ) async throws -> Envoy_Service_Auth_V3_CheckResponse {
        decide(request)
    }

    /// The answer to one `Check` (synchronous: no I/O), counted and logged.
    package func decide(_ request: Envoy_Service_Auth_V3_CheckRequest) -> Envoy_Service_Auth_V3_CheckResponse {
        let started = ContinuousClock.now
        let (response, outcome) = handler.check(request, keys: keys.keys, now: Date().timeIntervalSince1970)
        metrics.record(outcome, duration: ContinuousClock.now - started)
        switch outcome {
        case .allowed: break
        case .denied(let reason):
            logger.debug("request denied", metadata: ["auth.reason": .string(reason), "http.method": .string(request.attributes.request.http.method)])
        case .noPlan:
            logger.error(
                "a secured route reached the enforcer without a readable plan (answered 500); check the adapter's enforcement setting",
                metadata: ["http.path": .string(String(request.attributes.request.http.path.prefix(200)))])
        case .backendJWTFailed(let reason):
            logger.error(
                "the backend JWT could not be issued (answered 500)",
                metadata: ["error.description": .string(reason), "http.path": .string(String(request.attributes.request.http.path.prefix(200)))])
        }
        return response
    }
}

extension AuthorizationService {
    /// The gRPC path of `Check`.
    package static let checkPath = "/envoy.service.auth.v3.Authorization/Check"

    /// `Check` for ``UnaryGRPCServer``: decided inline on the connection's event loop (it never waits).
    package var checkMethod: UnaryGRPCMethod {
        .sync(Self.checkPath, Envoy_Service_Auth_V3_CheckRequest.self) { request in decide(request) }
    }
}

/// The enforcer's metrics per kind of call (created once: a call only increments): `Check` (`apk_enforcer_checks_total`,
/// `apk_enforcer_check_seconds`) and the router's backend-JWT requests (`apk_enforcer_backend_jwt_requests_total`,
/// `apk_enforcer_backend_jwt_seconds`), each counted by `decision`.
struct EnforcerMetrics: Sendable {
    let allowed: Counter
    let denied: Counter
    let noPlan: Counter
    let backendJWTFailed: Counter
    let duration: Timer

    init(counter: String = "apk_enforcer_checks_total", timer: String = "apk_enforcer_check_seconds") {
        allowed = Counter(label: counter, dimensions: [("decision", "allow")])
        denied = Counter(label: counter, dimensions: [("decision", "deny")])
        noPlan = Counter(label: counter, dimensions: [("decision", "no_plan")])
        backendJWTFailed = Counter(label: counter, dimensions: [("decision", "backend_jwt_failed")])
        duration = Timer(label: timer)
    }

    func record(_ outcome: CheckHandler.Outcome, duration elapsed: Duration) {
        switch outcome {
        case .allowed: allowed.increment()
        case .denied: denied.increment()
        case .noPlan: noPlan.increment()
        case .backendJWTFailed: backendJWTFailed.increment()
        }
        duration.record(duration: elapsed)
    }
}
