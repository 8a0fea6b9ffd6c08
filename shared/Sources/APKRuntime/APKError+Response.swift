package import APKModel
package import Hummingbird
import NIOCore

extension APKError {
    /// 900900 / 500: what every error that is not an ``APKError`` becomes on the wire (contract §2.4).
    package static let unclassified = APKError(
        code: 900900, status: 500, message: "Internal Server Error", detail: "Internal Server Error")

    /// The response body (contract §2.4), keys in a fixed order:
    /// `{"code","message","description","moreInfo"[,"errors"]}`, or for the 90091 shape
    /// `{"code","message"[,"error"]}` (no `error` member when there are no definition problems).
    package var jsonBody: JSONValue {
        var body = JSONObject()
        body["code"] = .int(code)
        body["message"] = .string(message)
        if let problems = definitionProblems {
            if !problems.isEmpty {
                body["error"] = .array(
                    problems.map {
                        ["code": .string($0.code), "message": .string($0.message), "description": .string($0.description)]
                    })
            }
            return .object(body)
        }
        body["description"] = .string(detail)
        body["moreInfo"] = .object(JSONObject(moreInfo.map { ($0.key, JSONValue.string($0.value)) }))
        if !issues.isEmpty {
            body["errors"] = .array(issues.map { ["pointer": .string($0.pointer), "message": .string($0.message)] })
        }
        return .object(body)
    }

    /// The HTTP response: status = ``status``, `Content-Type: application/json`, body = ``jsonBody``.
    package func response() -> Response {
        Response.json(jsonBody, status: HTTPResponse.Status(code: status))
    }
}

extension Response {
    /// A compact, deterministic JSON response (`DocumentWriter.json`).
    package static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        let text = DocumentWriter.json(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(text.utf8.count)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// A response with the given content type and bytes.
    package static func bytes(_ buffer: ByteBuffer, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.contentLength] = String(buffer.readableBytes)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }
}
