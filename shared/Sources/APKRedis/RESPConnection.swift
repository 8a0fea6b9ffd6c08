package import Logging
package import NIOCore
import NIOPosix
import Synchronization

/// One Redis connection: a channel with ``RESPDecoder`` and ``RESPCommandHandler``, and async commands over it.
///
/// Safe to use from many tasks at once: their commands are pipelined on the one connection. Replies that are Redis
/// errors are returned; connection failures throw ``RedisClientError``. A task cancelled before it sends writes
/// nothing; one cancelled while it waits stops waiting at once (`CancellationError`), but its command, once written,
/// cannot be taken back: it may still run, and its reply is read and dropped so later replies stay paired.
package final class RESPConnection: RedisClient {
    /// The underlying channel.
    package let channel: any Channel
    private let commandTimeout: TimeAmount?
    private let inFlightCount = Atomic<Int>(0)

    /// Wraps a channel whose pipeline already holds the RESP handlers (see ``addHandlers(to:limits:)``).
    package init(channel: any Channel, commandTimeout: Duration?) {
        self.channel = channel
        self.commandTimeout = commandTimeout.map { TimeAmount($0) }
    }

    /// Requests sent and not yet answered (a pipeline counts once); used to pick the least busy connection.
    package var inFlight: Int { inFlightCount.load(ordering: .relaxed) }

    /// False once the channel has closed.
    package var isActive: Bool { channel.isActive }

    /// Completes when the channel has closed.
    package var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Adds the decoder and the request/reply handler to a new channel's pipeline (on its event loop).
    package static func addHandlers(to channel: any Channel, limits: RESPDecoder.Limits) throws {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(ByteToMessageHandler(RESPDecoder(limits: limits)))
        try sync.addHandler(RESPCommandHandler())
    }

    /// Opens a connection, authenticates and selects the database, all within `configuration.connectTimeout`.
    package static func connect(
        configuration: RedisConfiguration, eventLoop: any EventLoop, logger: Logger
    ) -> EventLoopFuture<RESPConnection> {
        let timeout = TimeAmount(configuration.connectTimeout)
        let handshakeDeadline = eventLoop.now + timeout
        let target = "\(configuration.host):\(configuration.port)"
        let limits = configuration.decoderLimits
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try addHandlers(to: channel, limits: limits) }
            }
            .connect(host: configuration.host, port: configuration.port)
            .flatMapErrorThrowing { error in
                throw RedisClientError(.connectFailed, "cannot connect to Redis at \(target): \(error)")
            }
            .flatMap { channel in
                let connection = RESPConnection(channel: channel, commandTimeout: configuration.commandTimeout)
                return connection.handshake(configuration, deadline: handshakeDeadline)
                    .map { connection }
                    .flatMapError { error in
                        channel.close(promise: nil)
                        let failure =
                            (error as? RedisClientError).map { $0.code == .commandTimeout ? timedOut(target) : $0 }
                            ?? RedisClientError(.connectFailed, "\(error)")
                        return eventLoop.makeFailedFuture(failure)
                    }
            }
            .always { result in
                if case .success = result {
                    logger.debug("Redis connection open", metadata: ["redis.server": "\(target)"])
                }
            }
    }

    /// Async form of ``connect(configuration:eventLoop:logger:)``.
    package static func connect(
        configuration: RedisConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "apk.redis")
    ) async throws -> RESPConnection {
        try await connect(configuration: configuration, eventLoop: eventLoopGroup.next(), logger: logger).get()
    }

    private static func timedOut(_ target: String) -> RedisClientError {
        RedisClientError(.connectFailed, "Redis at \(target) did not complete AUTH/SELECT within the connect timeout")
    }

    /// `AUTH` then `SELECT`, as configured; a Redis error reply becomes the matching ``RedisClientError``.
    private func handshake(_ configuration: RedisConfiguration, deadline: NIODeadline) -> EventLoopFuture<Void> {
        var commands: [([String], RedisClientError.Code)] = []
        if let password = configuration.password {
            let auth = configuration.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            commands.append((auth, .authenticationFailed))
        }
        if configuration.database != 0 {
            commands.append((["SELECT", String(configuration.database)], .selectFailed))
        }
        guard !commands.isEmpty else { return channel.eventLoop.makeSucceededVoidFuture() }
        let codes = commands.map(\.1)
        return sendBatch(commands.map(\.0), deadline: deadline).flatMapThrowing { replies in
            for (reply, code) in zip(replies, codes) where reply != .simpleString("OK") {
                throw RedisClientError(code, "Redis answered \(reply.errorMessage ?? reply.description)")
            }
        }
    }

    package func send(_ command: [String]) async throws -> RESPValue {
        try await send(command, timeout: nil)
    }

    /// Sends one command, with a reply deadline that replaces the configured command timeout when given.
    package func send(_ command: [String], timeout: Duration?) async throws -> RESPValue {
        guard !command.isEmpty else { throw RedisClientError.emptyCommand }
        var payload = channel.allocator.buffer(capacity: RESPEncoder.estimatedSize(of: command))
        RESPEncoder.encode(command: command, into: &payload)
        return try await send(payload: payload, timeout: timeout)
    }

    /// Sends one command given as raw byte arguments (binary-safe keys and values).
    package func send(bytes command: [[UInt8]], timeout: Duration? = nil) async throws -> RESPValue {
        guard !command.isEmpty else { throw RedisClientError.emptyCommand }
        var payload = channel.allocator.buffer(capacity: command.reduce(16) { $0 + $1.count + 16 })
        RESPEncoder.encode(command: command, into: &payload)
        return try await send(payload: payload, timeout: timeout)
    }

    package func pipeline(_ commands: [[String]]) async throws -> [RESPValue] {
        try await pipeline(commands, timeout: nil)
    }

    /// Sends the commands in one write, with a deadline for all their replies when given.
    package func pipeline(_ commands: [[String]], timeout: Duration?) async throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        guard !commands.contains(where: \.isEmpty) else { throw RedisClientError.emptyCommand }
        try Task.checkCancellation()
        inFlightCount.add(1, ordering: .relaxed)
        defer { inFlightCount.subtract(1, ordering: .relaxed) }
        return try await sendBatch(commands, deadline: deadline(timeout)).valueUnlessCancelled()
    }

    /// Sends the commands in one write; the replies, or ``RedisClientError/Code/replyLate`` after `patience`, timed
    /// on the connection's event loop (no task, no Swift timer). The configured command timeout still applies to the
    /// replies themselves. The future completes on the connection's event loop (`eventLoop` is not used: one
    /// connection has one loop).
    package func pipeline(
        _ commands: [[String]], patience: Duration, preferring eventLoop: (any EventLoop)? = nil
    ) -> EventLoopFuture<[RESPValue]> {
        let loop = channel.eventLoop
        guard !commands.isEmpty else { return loop.makeSucceededFuture([]) }
        guard !commands.contains(where: \.isEmpty) else { return loop.makeFailedFuture(RedisClientError.emptyCommand) }
        inFlightCount.add(1, ordering: .relaxed)
        let replies = sendBatch(commands, deadline: deadline(nil))
        replies.whenComplete { _ in self.inFlightCount.subtract(1, ordering: .relaxed) }
        return replies.withPatience(patience, on: loop, "no reply")
    }

    /// Closes the connection; pending requests fail with ``RedisClientError/Code/connectionClosed``.
    package func close() async {
        channel.close(promise: nil)
        try? await channel.closeFuture.get()
    }

    private func send(payload: ByteBuffer, timeout: Duration?) async throws -> RESPValue {
        try Task.checkCancellation()
        inFlightCount.add(1, ordering: .relaxed)
        defer { inFlightCount.subtract(1, ordering: .relaxed) }
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        write(RESPRequest(payload: payload, responder: .single(promise), deadline: deadline(timeout))) {
            promise.fail($0)
        }
        return try await promise.futureResult.valueUnlessCancelled()
    }

    private func sendBatch(_ commands: [[String]], deadline: NIODeadline?) -> EventLoopFuture<[RESPValue]> {
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        let payload = RESPEncoder.encode(commands: commands, allocator: channel.allocator)
        write(RESPRequest(payload: payload, responder: .batch(count: commands.count, promise), deadline: deadline)) {
            promise.fail($0)
        }
        return promise.futureResult
    }

    /// Writes `request`; `onUndelivered` runs when it never reached the handler (the channel was already torn down).
    private func write(_ request: RESPRequest, onUndelivered: @escaping @Sendable (RedisClientError) -> Void) {
        channel.writeAndFlush(request).whenFailure { _ in onUndelivered(.closed) }
    }

    private func deadline(_ timeout: Duration?) -> NIODeadline? {
        (timeout.map { TimeAmount($0) } ?? commandTimeout).map { channel.eventLoop.now + $0 }
    }
}
