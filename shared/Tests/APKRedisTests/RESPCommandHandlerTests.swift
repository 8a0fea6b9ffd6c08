import APKRedis
import NIOCore
import NIOEmbedded
import Testing

/// Request/reply pairing on one channel: replies complete promises in FIFO order, writes of one event-loop turn leave
/// in one flush, and a close, a decoding error, an unexpected reply or an overdue reply fails every pending request
/// with a typed ``RedisClientError``.
@Suite struct RESPCommandHandlerTests {
    private func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try RESPConnection.addHandlers(to: channel, limits: .defaults)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        return channel
    }

    /// Sends one command as ``RESPConnection`` does, returning the reply's future.
    private func send(
        _ command: [String], on channel: EmbeddedChannel, deadline: NIODeadline? = nil
    ) -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        var payload = ByteBuffer()
        RESPEncoder.encode(command: command, into: &payload)
        channel.writeAndFlush(RESPRequest(payload: payload, responder: .single(promise), deadline: deadline),
                              promise: nil)
        return promise.futureResult
    }

    private func written(_ channel: EmbeddedChannel) throws -> String {
        var all = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { all.writeBuffer(&part) }
        return String(buffer: all)
    }

    private func failure(_ future: EventLoopFuture<RESPValue>) -> RedisClientError? {
        var error: RedisClientError?
        future.assumeIsolated().whenFailure { error = $0 as? RedisClientError }
        return error
    }

    @Test func repliesCompletePromisesInOrder() throws {
        let channel = try makeChannel()
        let futures = (1...3).map { send(["INCRBY", "k", "\($0)"], on: channel) }
        var results: [Int64] = []
        for future in futures { future.assumeIsolated().whenSuccess { results.append($0.integer ?? 0) } }

        // Nothing is flushed until the event-loop turn ends; then all three leave together.
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        channel.embeddedEventLoop.run()
        let expected = RESPEncoder.encode(commands: (1...3).map { ["INCRBY", "k", "\($0)"] })
        #expect(try written(channel) == String(buffer: expected))

        try channel.writeInbound(ByteBuffer(string: ":1\r\n:3"))
        #expect(results == [1])
        try channel.writeInbound(ByteBuffer(string: "\r\n-ERR no\r\n"))
        #expect(results == [1, 3, 0])
        #expect(try futures[2].wait() == .error("ERR no"))
        #expect(try channel.finish().isClean)
    }

    @Test func batchResponderGetsAllRepliesAtOnce() throws {
        let channel = try makeChannel()
        let single = send(["PING"], on: channel)
        let batch = channel.eventLoop.makePromise(of: [RESPValue].self)
        let payload = RESPEncoder.encode(commands: [["GET", "a"], ["GET", "b"]])
        channel.writeAndFlush(RESPRequest(payload: payload, responder: .batch(count: 2, batch)), promise: nil)
        let after = send(["PING"], on: channel)
        channel.embeddedEventLoop.run()
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n$1\r\nx\r\n$-1\r\n+PONG\r\n"))
        #expect(try single.wait() == .simpleString("PONG"))
        #expect(try batch.futureResult.wait() == [.bulkString("x"), .nullBulkString])
        #expect(try after.wait() == .simpleString("PONG"))
        _ = try channel.finish()
    }

    /// The ratelimiter's case: each request writes its INCRBY/EXPIRE pipeline; the pipelines of requests written in
    /// the same event-loop turn leave in one flush, and the replies are split between them in FIFO order.
    @Test func pipelinesOfOneTurnLeaveInOneFlushAndSplitTheirReplies() throws {
        let channel = try makeChannel()
        let requests = [["a", "1"], ["b", "5"]].map { key -> (EventLoopPromise<[RESPValue]>, [[String]]) in
            let commands = [["INCRBY", key[0], key[1]], ["EXPIRE", key[0], "60", "NX"]]
            let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
            channel.writeAndFlush(
                RESPRequest(payload: RESPEncoder.encode(commands: commands), responder: .batch(count: 2, promise)),
                promise: nil)
            return (promise, commands)
        }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)  // nothing before the turn ends
        channel.embeddedEventLoop.run()
        var flushed: [ByteBuffer] = []
        while let part = try channel.readOutbound(as: ByteBuffer.self) { flushed.append(part) }
        let expected = RESPEncoder.encode(commands: requests.flatMap(\.1))
        #expect(String(buffer: flushed.reduce(into: ByteBuffer()) { $0.writeImmutableBuffer($1) }) == String(buffer: expected))
        try channel.writeInbound(ByteBuffer(string: ":1\r\n:1\r\n:5\r\n:0\r\n"))
        #expect(try requests[0].0.futureResult.wait() == [.integer(1), .integer(1)])
        #expect(try requests[1].0.futureResult.wait() == [.integer(5), .integer(0)])
        #expect(try channel.finish().isClean)
    }

    @Test func closeFailsPendingAndLaterRequests() throws {
        let channel = try makeChannel()
        let first = send(["GET", "a"], on: channel)
        let second = send(["GET", "b"], on: channel)
        channel.embeddedEventLoop.run()
        try channel.writeInbound(ByteBuffer(string: "$1\r\n"))  // half a reply, then the server goes away
        channel.pipeline.fireChannelInactive()
        #expect(failure(first)?.code == .connectionClosed)
        #expect(failure(second)?.code == .connectionClosed)
        #expect(failure(send(["PING"], on: channel))?.code == .connectionClosed)
        _ = try? channel.finish()
    }

    @Test func decodingErrorFailsPendingAndClosesTheChannel() throws {
        let channel = try makeChannel()
        let pending = send(["GET", "a"], on: channel)
        channel.embeddedEventLoop.run()
        #expect(throws: Never.self) { try channel.writeInbound(ByteBuffer(string: "$-7\r\n")) }
        #expect(failure(pending)?.code == .protocolError)
        #expect(failure(pending)?.detail.contains("resp_invalid_length") == true)
        #expect(!channel.isActive)
        #expect(failure(send(["PING"], on: channel)) != nil)
    }

    @Test func replyWithoutRequestClosesTheChannel() throws {
        let channel = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "+surprise\r\n"))
        #expect(!channel.isActive)
    }

    @Test func overdueReplyTimesOutAndClosesTheChannel() throws {
        let channel = try makeChannel()
        let loop = channel.embeddedEventLoop
        let early = send(["GET", "a"], on: channel, deadline: loop.now + .seconds(1))
        let late = send(["GET", "b"], on: channel, deadline: loop.now + .seconds(5))
        loop.run()
        try channel.writeInbound(ByteBuffer(string: "$1\r\nx\r\n"))  // the first one answers in time
        #expect(try early.wait() == .bulkString("x"))
        loop.advanceTime(by: .seconds(2))  // the timer re-arms for the second one's deadline
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(4))
        #expect(failure(late)?.code == .commandTimeout)
        #expect(!channel.isActive)
    }
}
