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

    /// ``pipeline(_:)`` that gives up waiting after `patience`, throwing ``RedisClientError/Code/replyLate``,
    /// without harming the connection: the commands were sent and may still run, their replies are read and dropped
    /// when they come (the ratelimiter's deadline: an answer in time, whatever Redis does). A cancelled task stops
    /// waiting too (`CancellationError`).
    func pipeline(_ commands: [[String]], patience: Duration) async throws -> [RESPValue]
}
