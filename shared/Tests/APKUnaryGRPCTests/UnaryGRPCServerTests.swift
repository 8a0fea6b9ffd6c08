import APKUnaryGRPC
import EnvoyGRPC
import EnvoyProtos
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import NIOPosix
import Testing

/// The lean unary gRPC server against grpc-swift-2's client (Envoy's own client is exercised by the enforcer's
/// integration tests): answers, concurrency, gRPC statuses for every failure, the message-size bound, shutdown.
@Suite struct UnaryGRPCServerTests {
    static let check = "/envoy.service.auth.v3.Authorization/Check"
    static let shouldRateLimit = "/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit"

    /// Answers OK with one header named after the request path; "deny" paths throw a status.
    static let methods: [UnaryGRPCMethod] = [
        .sync(check, Envoy_Service_Auth_V3_CheckRequest.self) { request in
            let path = request.attributes.request.http.path
            if path == "/deny" { throw UnaryGRPCError(code: .invalidArgument, message: "denied: ünïcode %") }
            if path == "/crash" { throw CancellationError() }
            var response = Envoy_Service_Auth_V3_CheckResponse()
            var header = Envoy_Config_Core_V3_HeaderValueOption()
            header.header.key = "x-path"
            header.header.value = path
            response.okResponse.headers = [header]
            return response
        },
        // Answered later, from another event loop (as a Redis reply can be): the server hops back to its own.
        .future(shouldRateLimit, Envoy_Service_Ratelimit_V3_RateLimitRequest.self) { request, eventLoop in
            let elsewhere = MultiThreadedEventLoopGroup.singleton.next()
            return elsewhere.scheduleTask(in: .milliseconds(1)) {
                var response = Envoy_Service_Ratelimit_V3_RateLimitResponse()
                response.overallCode = request.domain == "over" ? .overLimit : .ok
                return response
            }.futureResult
        },
    ]

    func withServer(_ body: (Envoy_Service_Auth_V3_Authorization.Client<HTTP2ClientTransport.Posix>,
                             Envoy_Service_Ratelimit_V3_RateLimitService.Client<HTTP2ClientTransport.Posix>) async throws -> Void)
        async throws
    {
        let server = UnaryGRPCServer(
            host: "127.0.0.1", port: 0, methods: Self.methods, maxMessageBytes: 64 * 1024, logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try #require(await server.listeningPort())
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { client in
                try await body(
                    Envoy_Service_Auth_V3_Authorization.Client(wrapping: client),
                    Envoy_Service_Ratelimit_V3_RateLimitService.Client(wrapping: client))
            }
            group.cancelAll()
        }
    }

    static func request(path: String, padding: Int = 0) -> Envoy_Service_Auth_V3_CheckRequest {
        var request = Envoy_Service_Auth_V3_CheckRequest()
        request.attributes.request.http.path = path
        if padding > 0 { request.attributes.request.http.headers["pad"] = String(repeating: "x", count: padding) }
        return request
    }

    @Test func unaryCallsAreAnsweredInlineAndFromFutures() async throws {
        try await withServer { authorization, rateLimits in
            let answer = try await authorization.check(Self.request(path: "/orders"))
            #expect(answer.okResponse.headers.first?.header.value == "/orders")
            var over = Envoy_Service_Ratelimit_V3_RateLimitRequest()
            over.domain = "over"
            #expect(try await rateLimits.shouldRateLimit(over).overallCode == .overLimit)
            #expect(try await rateLimits.shouldRateLimit(Envoy_Service_Ratelimit_V3_RateLimitRequest()).overallCode == .ok)
        }
    }

    @Test func concurrentCallsOnOneConnectionEachGetTheirOwnAnswer() async throws {
        try await withServer { authorization, _ in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<500 {
                    group.addTask {
                        let path = "/item/\(index)"
                        return try await authorization.check(Self.request(path: path)).okResponse.headers.first?.header.value == path
                    }
                }
                var correct = 0
                for try await matched in group where matched { correct += 1 }
                #expect(correct == 500)
            }
        }
    }

    @Test func failuresAreGRPCStatuses() async throws {
        try await withServer { authorization, _ in
            await #expect { try await authorization.check(Self.request(path: "/deny")) } throws: { error in
                guard let error = error as? RPCError else { return false }
                return error.code == .invalidArgument && error.message == "denied: ünïcode %"
            }
            await #expect { try await authorization.check(Self.request(path: "/crash")) } throws: { error in
                (error as? RPCError)?.code == .internalError
            }
            // Larger than the server's bound: refused, and the connection keeps serving.
            await #expect { try await authorization.check(Self.request(path: "/big", padding: 100_000)) } throws: { error in
                (error as? RPCError)?.code == .resourceExhausted
            }
            let after = try await authorization.check(Self.request(path: "/after"))
            #expect(after.okResponse.headers.first?.header.value == "/after")
        }
    }

    @Test func unknownMethodsAreUnimplemented() async throws {
        let server = UnaryGRPCServer(host: "127.0.0.1", port: 0, methods: [], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try #require(await server.listeningPort())
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            _ = try await withGRPCClient(transport: transport) { client in
                await #expect { try await Envoy_Service_Auth_V3_Authorization.Client(wrapping: client).check(Self.request(path: "/")) }
                    throws: { error in (error as? RPCError)?.code == .unimplemented }
            }
            group.cancelAll()
        }
    }
}

extension UnaryGRPCServerTests {
    /// Far more request bytes than HTTP/2's initial 64 KiB connection window on one connection: the server keeps the
    /// window open (a server that did not would stall here for ever).
    @Test(.timeLimit(.minutes(1))) func aLongLivedConnectionNeverRunsOutOfFlowControlWindow() async throws {
        try await withServer { authorization, _ in
            for round in 0..<40 {
                let path = "/round/\(round)"
                let answer = try await authorization.check(Self.request(path: path, padding: 60_000))
                #expect(answer.okResponse.headers.first?.header.value == path)
            }
        }
    }
}
