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
