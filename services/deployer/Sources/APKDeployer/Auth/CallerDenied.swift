package import APKAuthPlan
package import Hummingbird
import NIOCore

/// A refused caller: answered with the gateway's §7.6 denial (``Denial``), never the §2.4 body, so that a client
/// sees the same bytes whether the router or the deployer refused it. Rendered by ``DenialMiddleware``.
package struct CallerDenied: Error, Sendable, Hashable {
    /// What the caller is answered (status, code, texts, headers).
    package var denial: Denial

    /// A refusal answered with `denial`.
    package init(_ denial: Denial) { self.denial = denial }

    /// Status, `Content-Type: Application/json`, the denial's headers (`WWW-Authenticate: Bearer realm="APK"` on
    /// 401) and its pretty-printed body, exactly as the router sends them.
    package func response() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = Denial.contentType
        for header in denial.headers {
            if let name = HTTPFields.Element.Name(header.name) { headers[name] = header.value }
        }
        let body = ByteBuffer(string: denial.body)
        headers[.contentLength] = String(body.readableBytes)
        return Response(status: HTTPResponse.Status(code: denial.status), headers: headers, body: ResponseBody(byteBuffer: body))
    }
}
