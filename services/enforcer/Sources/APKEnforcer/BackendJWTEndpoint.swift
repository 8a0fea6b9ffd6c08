import APKAuthPlan
import APKRuntime
import Foundation
import Hummingbird
import Logging
import NIOCore

/// `POST /backend-jwt` on the enforcer's HTTP port: what the router's `apk.backend_jwt` Lua stage asks on a cache
/// miss in `native` mode. Body: the route's ``RoutePlan`` text (≤ 16 KiB); headers: the request's credential headers
/// as the client sent them, and `x-apk-original-path` (query API keys). Answers 200 with the text body
/// `<seconds the router may reuse it> <token>`; 403 when the plan does not allow the
/// request (Envoy's filters did: a gateway inconsistency, answered 500 by the router); 400 for a malformed call.
/// Internal: the port listens on loopback by default (HTTP_HOST) and the router reaches it as a system cluster.
enum BackendJWTEndpoint {
    static let pathHeader = "x-apk-original-path"
    static let metrics = EnforcerMetrics(
        counter: "apk_enforcer_backend_jwt_requests_total", timer: "apk_enforcer_backend_jwt_seconds")

    static func answer(
        _ request: Request, context: some RequestContext, handler: CheckHandler, keys: KeyRing, logger: Logger
    ) async throws -> Response {
        let body = try await request.body.collect(upTo: RoutePlan.maxEncodedBytes)
        let plan = String(buffer: body)
        var headers: [(name: String, value: String)] = []
        var path = "/"
        for field in request.headers {
            let name = field.name.canonicalName.lowercased()
            if name == pathHeader {
                path = field.value
            } else if !name.hasPrefix(":"), name != "content-type", name != "content-length", name != "host" {
                headers.append((name, field.value))
            }
        }
        let started = ContinuousClock.now
        let now = Date().timeIntervalSince1970
        let (result, outcome) = handler.backendJWT(planText: plan, headers: headers, path: path, keys: keys.keys, now: now)
        metrics.record(outcome, duration: ContinuousClock.now - started)
        guard let result else {
            logger.warning(
                "backend JWT refused for a request the router allowed",
                metadata: ["enforcer.outcome": .string(String(describing: outcome))])
            return Response(status: outcome == .noPlan ? .badRequest : .forbidden)
        }
        let text = "\(max(0, result.refreshAt - Int(now))) \(result.token)"
        return Response(
            status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
