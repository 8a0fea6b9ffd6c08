import APKModel
package import Hummingbird
package import Logging

/// Turns every thrown error into an APK error response and tags each request with an id.
///
/// - ``APKError`` → its own status and body (§2.4); 5xx are logged at `error`, others at `info`.
/// - Hummingbird's own 4xx errors (unknown route, wrong method, …) → that status with an APK-shaped body whose
///   `code` is the HTTP status.
/// - anything else → 500 900900 (`APKError.unclassified`); the real error is logged, never the request body.
///
/// The request id is the caller's `X-Request-ID` when it is a plain token of at most 64 characters, else
/// Hummingbird's generated id; it is put in the logger (`request.id`) and echoed as `X-Request-ID`.
package struct APKErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    package init() {}

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let generated = context.logger[metadataKey: "hb.request.id"]?.description ?? RequestID().description
        let requestID = Self.requestID(from: request, generated: generated)
        context.logger[metadataKey: "request.id"] = .string(requestID)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = Self.response(for: error, request: request, logger: context.logger)
        }
        response.headers[.requestID] = requestID
        return response
    }

    /// Maps any error to an APK error response, logging it with `error.code`.
    package static func response(for error: any Error, request: Request, logger: Logger) -> Response {
        let apkError: APKError
        switch error {
        case let error as APKError:
            apkError = error
        case let error as any HTTPResponseError where (400..<500).contains(error.status.code):
            apkError = APKError(
                code: error.status.code, status: error.status.code, message: error.status.reasonPhrase,
                detail: error.status == .notFound ? "The requested resource is not available." : error.status.reasonPhrase)
        default:
            logger.error(
                "unhandled error",
                metadata: [
                    "error.code": .stringConvertible(APKError.unclassified.code),
                    "error.type": .string(String(reflecting: type(of: error))),
                    "error.description": .string(String(describing: error)),
                    "http.method": .string(request.method.rawValue),
                ])
            return APKError.unclassified.response()
        }
        let metadata: Logger.Metadata = [
            "error.code": .stringConvertible(apkError.code),
            "error.description": .string(apkError.detail),
            "http.method": .string(request.method.rawValue),
            "http.status": .stringConvertible(apkError.status),
        ]
        if apkError.status >= 500 {
            logger.error("request failed", metadata: metadata)
        } else {
            logger.info("request rejected", metadata: metadata)
        }
        return apkError.response()
    }

    private static func requestID(from request: Request, generated: String) -> String {
        guard let given = request.headers[.requestID], (1...64).contains(given.utf8.count),
            given.utf8.allSatisfy({ byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2D || byte == 0x2E || byte == 0x5F
            })
        else { return generated }
        return given
    }
}

extension HTTPFields.Element.Name {
    /// `X-Request-ID`, read from requests and set on every response.
    package static let requestID = Self("X-Request-ID")!  // a valid token: cannot fail
}
