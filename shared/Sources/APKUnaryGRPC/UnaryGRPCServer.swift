package import Logging
package import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import ServiceLifecycle
package import SwiftProtobuf
import Synchronization

/// A gRPC server for **unary** methods only, on SwiftNIO's HTTP/2 handler directly: no stream channels, no task per
/// call (handlers answer inline or with a future, both started on the connection's event loop), one flush per answer. It serves what Envoy calls on the data path per request
/// (ext_authz `Check`, RLS `ShouldRateLimit`), where grpc-swift-2's general machinery costs ~0.15 ms of CPU per
/// call on these machines (`../shared/design/BUILD-NOTES.md`), more than the decision itself.
///
/// Wire rules kept (gRPC over HTTP/2): `POST`, `content-type: application/grpc…`, one length-prefixed,
/// uncompressed message per request; answers `:status 200`, the message, trailers `grpc-status: 0`; failures are
/// trailers-only answers with a gRPC status: 12 UNIMPLEMENTED (unknown method, compressed message), 3
/// INVALID_ARGUMENT (not one message, undecodable, larger than the limit), 13 INTERNAL (the handler threw), or the
/// ``UnaryGRPCError`` the handler threw. A client reset drops the call. Bounded: messages up to `maxMessageBytes`,
/// at most `maxConcurrentStreams` streams per connection (HTTP/2 setting), so a connection holds at most their
/// product in unfinished requests.
package final class UnaryGRPCServer: Service, Sendable {
    private let host: String
    private let port: Int
    private let methods: [String: UnaryGRPCMethod]
    private let maxMessageBytes: Int
    private let maxConcurrentStreams: Int
    private let logger: Logger
    private let bound = Mutex<(port: Int?, waiters: [CheckedContinuation<Int?, Never>], finished: Bool)>((nil, [], false))

    /// `methods`: the served methods (path `/<package.Service>/<Method>` → handler).
    package init(
        host: String, port: Int, methods: [UnaryGRPCMethod], maxMessageBytes: Int = 128 * 1024,
        maxConcurrentStreams: Int = 256, logger: Logger
    ) {
        self.host = host
        self.port = port
        self.methods = Dictionary(methods.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        self.maxMessageBytes = maxMessageBytes
        self.maxConcurrentStreams = maxConcurrentStreams
        self.logger = logger
    }

    /// The bound port once the server listens (nil if it failed to bind or stopped).
    package func listeningPort() async -> Int? {
        await withCheckedContinuation { continuation in
            bound.withLock { state in
                if state.port != nil || state.finished {
                    continuation.resume(returning: state.port)
                } else {
                    state.waiters.append(continuation)
                }
            }
        }
    }

    private func publish(port: Int?, finished: Bool) {
        let waiters = bound.withLock { state in
            state.port = port
            state.finished = finished
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    /// Serves until graceful shutdown (or cancellation), then closes the listener and every connection.
    package func run() async throws {
        let methods = self.methods
        let maxMessageBytes = self.maxMessageBytes
        let maxConcurrentStreams = self.maxConcurrentStreams
        let logger = self.logger
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let settings: HTTP2Settings = [
                        HTTP2Setting(parameter: .maxConcurrentStreams, value: maxConcurrentStreams),
                        HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
                        // One window larger than any accepted message (by a frame, so that an oversized request is
                        // seen and refused): no per-stream WINDOW_UPDATE is needed.
                        HTTP2Setting(parameter: .initialWindowSize, value: max(65_535, maxMessageBytes + 5 + 16_384)),
                    ]
                    try channel.pipeline.syncOperations.addHandler(NIOHTTP2Handler(mode: .server, initialSettings: settings))
                    try channel.pipeline.syncOperations.addHandler(
                        UnaryGRPCConnectionHandler(methods: methods, maxMessageBytes: maxMessageBytes, logger: logger))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            publish(port: nil, finished: true)
            throw error
        }
        publish(port: channel.localAddress?.port, finished: false)
        await withTaskCancellationOrGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
        publish(port: nil, finished: true)
    }
}

/// One unary method: its path and what answers a request message.
package struct UnaryGRPCMethod: Sendable {
    package let path: String
    let handle: Handle

    enum Handle: Sendable {
        /// Answers on the connection's event loop, inline (decisions that never wait).
        case sync(@Sendable (ByteBuffer) throws -> [UInt8])
        /// Answers when a future completes, started on the connection's event loop (I/O without a task: a Redis
        /// connection on the same loop keeps the whole call on one thread).
        case future(@Sendable (ByteBuffer, any EventLoop) -> EventLoopFuture<[UInt8]>)
    }

    /// A method answered inline on the event loop: `handler` must not block.
    package static func sync<Request: Message, Response: Message>(
        _ path: String, _ request: Request.Type = Request.self,
        _ handler: @escaping @Sendable (Request) throws -> Response
    ) -> UnaryGRPCMethod {
        UnaryGRPCMethod(path: path, handle: .sync { bytes in
            try handler(try decode(Request.self, bytes)).serializedBytes()
        })
    }

    /// A method answered when the future `handler` returns completes; `handler` runs on the connection's event loop
    /// (given) and must not block.
    package static func future<Request: Message, Response: Message>(
        _ path: String, _ request: Request.Type = Request.self,
        _ handler: @escaping @Sendable (Request, any EventLoop) -> EventLoopFuture<Response>
    ) -> UnaryGRPCMethod {
        UnaryGRPCMethod(path: path, handle: .future { bytes, eventLoop in
            do {
                return handler(try decode(Request.self, bytes), eventLoop).flatMapThrowing { try $0.serializedBytes() }
            } catch {
                return eventLoop.makeFailedFuture(error)
            }
        })
    }

    static func decode<Request: Message>(_ type: Request.Type, _ buffer: ByteBuffer) throws -> Request {
        do {
            return try Request(serializedBytes: Array(buffer.readableBytesView))  // a few hundred bytes: one copy
        } catch {
            throw UnaryGRPCError(code: .invalidArgument, message: "the request is not a \(Request.protoMessageName)")
        }
    }
}

/// A gRPC status a handler answers with (`message` goes to the client: never a secret).
package struct UnaryGRPCError: Error, Sendable, Hashable {
    package enum Code: Int, Sendable {
        case invalidArgument = 3
        case resourceExhausted = 8
        case unimplemented = 12
        case `internal` = 13
        case unavailable = 14
    }

    package var code: Code
    package var message: String

    package init(code: Code, message: String) {
        self.code = code
        self.message = message
    }
}

/// Reads the HTTP/2 frames of one connection and answers each stream's one request.
final class UnaryGRPCConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private struct Call {
        var method: UnaryGRPCMethod?
        var failure: UnaryGRPCError?
        var body: ByteBuffer?
    }

    private let methods: [String: UnaryGRPCMethod]
    private let maxMessageBytes: Int
    private let logger: Logger
    /// Streams whose request is still arriving.
    private var calls: [HTTP2StreamID: Call] = [:]
    /// Streams whose future has not completed yet (a reset drops them).
    private var pending: Set<HTTP2StreamID> = []

    init(methods: [String: UnaryGRPCMethod], maxMessageBytes: Int, logger: Logger) {
        self.methods = methods
        self.maxMessageBytes = maxMessageBytes
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let stream = frame.streamID
        switch frame.payload {
        case .headers(let headers):
            if var call = calls[stream] {
                // Trailers from the client: only END_STREAM matters.
                if headers.endStream {
                    calls[stream] = nil
                    finish(stream, call: &call, context: context)
                }
                return
            }
            var call = Call()
            let fields = headers.headers
            if fields.first(name: ":method") != "POST" {
                call.failure = UnaryGRPCError(code: .unimplemented, message: "gRPC calls are POST")
            } else if !(fields.first(name: "content-type")?.hasPrefix("application/grpc") ?? false) {
                call.failure = UnaryGRPCError(code: .invalidArgument, message: "content-type is not application/grpc")
            } else if let path = fields.first(name: ":path"), let method = methods[path] {
                call.method = method
            } else {
                call.failure = UnaryGRPCError(code: .unimplemented, message: "unknown method")
            }
            if headers.endStream {
                finish(stream, call: &call, context: context)
            } else {
                calls[stream] = call
            }
        case .data(let payload):
            guard var call = calls[stream] else { return }
            if case .byteBuffer(var bytes) = payload.data, call.failure == nil {
                if (call.body?.readableBytes ?? 0) + bytes.readableBytes > maxMessageBytes + 5 {
                    // Answered at once, and the rest of the request refused (RST_STREAM NO_ERROR, as gRPC servers do):
                    // waiting for its end would wait for window updates that are never sent.
                    calls[stream] = nil
                    answer(stream, .failure(UnaryGRPCError(code: .resourceExhausted, message: "the request is larger than \(maxMessageBytes) bytes")), context: context)
                    context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .rstStream(.noError))), promise: nil)
                    return
                } else if call.body == nil {
                    call.body = bytes
                } else {
                    call.body!.writeBuffer(&bytes)
                }
            }
            if payload.endStream {
                calls[stream] = nil
                finish(stream, call: &call, context: context)
            } else {
                calls[stream] = call
            }
        case .rstStream:
            calls[stream] = nil
            pending.remove(stream)
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// The connection's receive window (HTTP/2 flow control): without a stream multiplexer nobody else replenishes
    /// it, and a connection that carried 64 KiB of requests would stall. Topped up to ``connectionWindow`` whenever
    /// less than half of it is left. (Stream windows need no updates: one request fits the initial window.)
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let update = event as? NIOHTTP2WindowUpdatedEvent, update.streamID == .rootStream,
            let inbound = update.inboundWindowSize, inbound < Self.connectionWindow / 2
        {
            let frame = HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: Self.connectionWindow - inbound))
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The connection receive window kept open (1 MiB: many requests in flight without waiting for an update).
    static let connectionWindow = 1 << 20

    func channelActive(context: ChannelHandlerContext) {
        // Open the connection window from the protocol's 64 KiB to ``connectionWindow`` at once.
        let frame = HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: Self.connectionWindow - 65_535))
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        calls = [:]
        pending = []
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Protocol errors close the connection (NIOHTTP2 has already answered with GOAWAY where it applies).
        logger.debug("gRPC connection error", metadata: ["error.description": "\(error)"])
        context.close(promise: nil)
    }

    /// The request is complete: answer it (inline, or when a future method's future completes).
    private func finish(_ stream: HTTP2StreamID, call: inout Call, context: ChannelHandlerContext) {
        if let failure = call.failure {
            return answer(stream, .failure(failure), context: context)
        }
        guard let method = call.method else { return }
        guard var body = call.body, let flag = body.readInteger(as: UInt8.self), let length = body.readInteger(as: UInt32.self)
        else {
            return answer(stream, .failure(UnaryGRPCError(code: .invalidArgument, message: "no request message")), context: context)
        }
        guard flag == 0 else {
            return answer(stream, .failure(UnaryGRPCError(code: .unimplemented, message: "compressed messages are not accepted")), context: context)
        }
        guard Int(length) == body.readableBytes else {
            return answer(stream, .failure(UnaryGRPCError(code: .invalidArgument, message: "expected exactly one request message")), context: context)
        }
        switch method.handle {
        case .sync(let handle):
            do {
                answer(stream, .success(try handle(body)), context: context)
            } catch {
                answer(stream, .failure(Self.status(of: error)), context: context)
            }
        case .future(let handle):
            pending.insert(stream)
            let handler = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            handle(body, context.eventLoop).hop(to: context.eventLoop).whenComplete { result in
                let (connection, context) = handler.value
                guard connection.pending.remove(stream) != nil else { return }  // reset meanwhile
                connection.answer(stream, result.mapError(Self.status(of:)), context: context)
                context.flush()
            }
        }
    }

    private static func status(of error: any Error) -> UnaryGRPCError {
        (error as? UnaryGRPCError) ?? UnaryGRPCError(code: .internal, message: "internal error")
    }

    /// The same on every answer: built once.
    private static let responseHeaders: HPACKHeaders = [":status": "200", "content-type": "application/grpc"]
    private static let okTrailers: HPACKHeaders = ["grpc-status": "0"]

    /// Writes the answer (flushed at the end of the read burst, or by the caller).
    private func answer(_ stream: HTTP2StreamID, _ result: Result<[UInt8], UnaryGRPCError>, context: ChannelHandlerContext) {
        switch result {
        case .success(let message):
            context.write(
                wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: Self.responseHeaders)))), promise: nil)
            var buffer = context.channel.allocator.buffer(capacity: message.count + 5)
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt32(message.count))
            buffer.writeBytes(message)
            context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .data(.init(data: .byteBuffer(buffer))))), promise: nil)
            context.write(
                wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: Self.okTrailers, endStream: true)))),
                promise: nil)
        case .failure(let failure):
            let headers: HPACKHeaders = [
                ":status": "200", "content-type": "application/grpc", "grpc-status": String(failure.code.rawValue),
                "grpc-message": Self.percentEncoded(failure.message),
            ]
            context.write(
                wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: headers, endStream: true)))),
                promise: nil)
        }
    }

    /// `grpc-message` encoding: printable ASCII except `%` as is, everything else `%XX`.
    static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            if byte >= 0x20, byte <= 0x7E, byte != 0x25 {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return result
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
