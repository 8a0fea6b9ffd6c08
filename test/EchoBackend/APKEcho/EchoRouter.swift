package import APKModel
package import Hummingbird
import Foundation
import NIOCore

/// An httpbin-like backend for gateway tests: every request is answered with JSON describing it (method, path,
/// query arguments, headers with lower-case names, body), so a test can see exactly what the gateway forwarded upstream.
///
/// - `/status/<code>` answers with that status (100–599) and the echo body;
/// - `/delay/<seconds>` waits (at most 10 s) before answering, for upstream-timeout tests;
/// - `GET /.well-known/jwks.json` serves the `JWKS_FILE` (read on every request) when one is configured: the key set
///   of a test token issuer;
/// - every other path and method echoes.
package enum EchoRouter {
    /// Largest request body echoed back; larger bodies get 413.
    package static let maxBodyBytes = 1 << 20

    package static func build(jwksFile: String? = nil) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/health") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"health":"Ok"}"#))) }
        if let jwksFile {
            router.get("/.well-known/jwks.json") { _, _ in
                guard let data = FileManager.default.contents(atPath: jwksFile) else { return Response(status: .notFound) }
                return Response(
                    status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
            }
        }
        router.on("**", method: .get, use: echo)
        for method in [HTTPRequest.Method.post, .put, .delete, .patch, .head, .options] {
            router.on("**", method: method, use: echo)
        }
        return router
    }

    @Sendable static func echo(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            return Response(status: .contentTooLarge)
        }
        var status = HTTPResponse.Status.ok
        let segments = request.uri.path.split(separator: "/")
        if segments.count == 2, segments[0] == "status", let code = Int(segments[1]), (100...599).contains(code) {
            status = HTTPResponse.Status(code: code)
        }
        if segments.count == 2, segments[0] == "delay", let seconds = Double(segments[1]), seconds >= 0 {
            try await Task.sleep(for: .milliseconds(Int(min(seconds, 10) * 1000)))
        }
        let document = describe(request, body: body)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        let text = DocumentWriter.json(document, pretty: true) + "\n"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The JSON description of a request (field order fixed).
    package static func describe(_ request: Request, body: ByteBuffer) -> JSONValue {
        var args = JSONObject()
        for (key, value) in request.uri.queryParameters {
            args[String(key)] = .string(String(value))
        }
        var headers = JSONObject()
        for field in request.headers {
            let name = field.name.canonicalName
            if let existing = headers[name]?.stringValue {
                headers[name] = .string(existing + ", " + field.value)
            } else {
                headers[name] = .string(field.value)
            }
        }
        let data = String(buffer: body)
        let json = (try? JSONParser.parse(Array(data.utf8))) ?? .null
        return .object(JSONObject([
            ("method", .string(request.method.rawValue)),
            ("path", .string(request.uri.path)),
            ("url", .string(request.uri.description)),
            ("args", .object(args)),
            ("headers", .object(headers)),
            ("data", .string(data)),
            ("json", json),
        ]))
    }
}
