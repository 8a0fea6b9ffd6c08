import Hummingbird

/// Counts every response in `apk_config_requests_total{route,status}`. Added outermost, so it sees the status
/// the error middleware produced. The route label is the last segment of the matched route (both path aliases
/// count as one route); requests matching no route count as `unmatched`.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            let response = try await next(request, context)
            ConfigMetrics.countRequest(route: Self.route(context.endpointPath), status: response.status.code)
            return response
        } catch {
            ConfigMetrics.countRequest(route: Self.route(context.endpointPath), status: 500)
            throw error
        }
    }

    static func route(_ endpointPath: String?) -> String {
        guard let endpointPath, let last = endpointPath.split(separator: "/").last else { return "unmatched" }
        return String(last)
    }
}
