import APKEcho
import APKModel
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import APKConversion

@Suite struct EchoRouterTests {
    func withClient(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await Application(router: EchoRouter.build()).test(.router) { client in try await body(client) }
    }

    @Test func echoesMethodPathQueryHeadersAndBody() async throws {
        try await withClient { client in
            try await client.execute(uri: "/anything/x?a=1&b=two", method: .post,
                                     headers: [.init("X-Test")!: "yes", .contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"k":"v"}"#)) { response in
                #expect(response.status == .ok)
                let echo = try DocumentParser().parse(Data(String(buffer: response.body).utf8))
                #expect(echo["method"] == "POST")
                #expect(echo["path"] == "/anything/x")
                #expect(echo["args"] == ["a": "1", "b": "two"])
                #expect(echo["headers"]?["x-test"] == "yes")  // names lower-cased, as Envoy forwards them
                #expect(echo["data"] == #"{"k":"v"}"#)
                #expect(echo["json"] == ["k": "v"])
            }
        }
    }

    @Test(arguments: [200, 404, 503])
    func statusPathAnswersThatStatus(_ code: Int) async throws {
        try await withClient { client in
            try await client.execute(uri: "/status/\(code)", method: .get) { response in
                #expect(response.status.code == code)
            }
        }
    }

    @Test func largeBodiesAreRefused() async throws {
        try await withClient { client in
            let big = ByteBuffer(repeating: 0x41, count: EchoRouter.maxBodyBytes + 1)
            try await client.execute(uri: "/anything", method: .put, body: big) { response in
                #expect(response.status == .contentTooLarge)
            }
        }
    }
}
