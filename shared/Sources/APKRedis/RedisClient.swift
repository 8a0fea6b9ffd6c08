package import NIOCore
import NIOPosix

/// What the gateway needs from Redis: commands in, replies out. Implemented by ``RESPConnection`` (one connection),
/// ``RedisConnectionPool`` (production) and ``InMemoryRedisClient`` (unit tests).
///
/// Redis errors come back as ``RESPValue/error(_:)`` replies; thrown errors are connection-level failures, as a
/// ``RedisClientError`` whose code says what happened.
package protocol RedisClient: Sendable {
    /// Sends one command (`["INCRBY", key, "1"]`) and returns its reply.
    func send(_ command: [String]) async throws -> RESPValue

    /// Sends the commands in one write and returns their replies in order (Redis runs them one after another, but
    /// not atomically: use `MULTI`/`EXEC` or a script for that).
    func pipeline(_ commands: [[String]]) async throws -> [RESPValue]

    /// ``pipeline(_:)`` without a task: the replies as a future that fails with ``RedisClientError/Code/replyLate``
    /// after `patience`, without harming the connection (the commands were sent and may still run; their replies are
    /// read and dropped when they come) — the ratelimiter's deadline: an answer in time, whatever Redis does. A
    /// client with several connections prefers one on `eventLoop` (the caller's), so that the request and its reply
    /// stay on one thread. The future may complete on another event loop.
    func pipeline(_ commands: [[String]], patience: Duration, preferring eventLoop: (any EventLoop)?)
        -> EventLoopFuture<[RESPValue]>
}

extension RedisClient {
    /// ``pipeline(_:patience:preferring:)`` awaited; a cancelled task stops waiting (`CancellationError`).
    package func pipeline(_ commands: [[String]], patience: Duration) async throws -> [RESPValue] {
        try await pipeline(commands, patience: patience, preferring: nil).valueUnlessCancelled()
    }
}

extension EventLoopFuture where Value: Sendable {
    /// This future's result, or ``RedisClientError/Code/replyLate`` ("`what` within `patience`") once `patience` has
    /// passed on `eventLoop`, whichever comes first. The later completion is ignored (NIO completes a promise once);
    /// the work behind this future goes on and its result is dropped.
    func withPatience(_ patience: Duration, on eventLoop: any EventLoop, _ what: String) -> EventLoopFuture<Value> {
        let answer = eventLoop.makePromise(of: Value.self)
        let timer = eventLoop.scheduleTask(in: TimeAmount(patience)) {
            answer.fail(RedisClientError(.replyLate, "\(what) within \(patience)"))
        }
        whenComplete { result in
            timer.cancel()
            answer.completeWith(result)
        }
        return answer.futureResult
    }
}
