import APKModel
import APKRuntime
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import Testing

private struct Boom: Error {}

@Suite struct OpsAndMiddlewareTests {
    private func app(ready: Bool = true, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry())
        -> some ApplicationProtocol
    {
        let router = Router()
        router.add(middleware: APKErrorMiddleware())
        OpsRoutes(registry: registry, readiness: { ready }).add(to: router)
        router.get("apk") { _, _ -> Response in throw APKError.noOperations }
        router.get("boom") { _, _ -> Response in throw Boom() }
        router.post("upload") { request, _ -> Response in
            let body = try await request.collectBody(limit: 16)
            return Response.json(["bytes": .int(body.readableBytes)])
        }
        return Application(router: router, logger: Logger(label: "test"))
    }

    @Test func health() async throws {
        try await app().test(.router) { client in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == #"{"health":"Ok"}"#)
            #expect(response.headers[.contentType] == "application/json")
        }
    }

    @Test(arguments: [true, false])
    func ready(isReady: Bool) async throws {
        try await app(ready: isReady).test(.router) { client in
            let response = try await client.execute(uri: "/ready", method: .get)
            #expect(response.status == (isReady ? .ok : .serviceUnavailable))
            #expect(String(buffer: response.body) == (isReady ? #"{"ready":true}"# : #"{"ready":false}"#))
        }
    }

    @Test func metricsInPrometheusText() async throws {
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "apk_test_things", unitName: "total", helpText: "test"), labels: [("kind", "a")]).increment(by: Int64(3))
        try await app(registry: registry).test(.router) { client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(String(buffer: response.body).contains(#"apk_test_things_total{kind="a"} 3"#))
        }
    }

    @Test func apkErrorsRenderWithRequestID() async throws {
        try await app().test(.router) { client in
            let response = try await client.execute(uri: "/apk", method: .get, headers: [.requestID: "abc-123"])
            #expect(response.status.code == 406)
            #expect(response.headers[.requestID] == "abc-123")
            #expect(String(buffer: response.body).hasPrefix(#"{"code":909021,"#))
        }
    }

    @Test func unsafeRequestIDsAreReplaced() async throws {
        try await app().test(.router) { client in
            let response = try await client.execute(uri: "/health", method: .get, headers: [.requestID: "a b\"c"])
            let id = try #require(response.headers[.requestID])
            #expect(id != "a b\"c" && !id.isEmpty)
        }
    }

    @Test func otherErrorsBecome900900() async throws {
        try await app().test(.router) { client in
            let response = try await client.execute(uri: "/boom", method: .get)
            #expect(response.status == .internalServerError)
            #expect(
                String(buffer: response.body)
                    == #"{"code":900900,"message":"Internal Server Error","description":"Internal Server Error","moreInfo":{}}"#)
        }
    }

    @Test func unknownRoutesAre404InAPKShape() async throws {
        try await app().test(.router) { client in
            let response = try await client.execute(uri: "/nowhere", method: .get)
            #expect(response.status == .notFound)
            #expect(String(buffer: response.body).hasPrefix(#"{"code":404,"message":"Not Found""#))
        }
    }

    @Test func bodyLimit() async throws {
        try await app().test(.router) { client in
            let small = try await client.execute(uri: "/upload", method: .post, body: ByteBuffer(string: "0123456789"))
            #expect(String(buffer: small.body) == #"{"bytes":10}"#)
            let large = try await client.execute(
                uri: "/upload", method: .post, body: ByteBuffer(repeating: 0x41, count: 17))
            #expect(large.status == .contentTooLarge)
            #expect(String(buffer: large.body).hasPrefix(#"{"code":909060,"#))
        }
    }

    @Test func bodyLimitWithoutContentLength() async throws {
        // A chunked body (no Content-Length) is cut off once it passes the limit.
        let request = Request(
            head: HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: "/upload"),
            body: RequestBody(buffer: ByteBuffer(repeating: 0x41, count: 100)))
        await #expect(throws: APKError.payloadTooLarge(limit: 16)) { try await request.collectBody(limit: 16) }
    }
}
