/// Why a Redis request failed at the connection level (a Redis `-ERR` reply is a ``RESPValue/error(_:)`` instead).
///
/// The `code` is stable and meant for logs (`error.code`), metrics and decisions (a rate limiter fails open on
/// ``Code/notConnected``); `detail` is for people and never holds a password or a command's arguments.
package struct RedisClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stable kinds of failure.
    package enum Code: String, Sendable, Hashable {
        /// The connection closed (or broke) before the reply arrived; the command may or may not have run.
        case connectionClosed = "redis_connection_closed"
        /// The pool has no usable connection right now and is reconnecting in the background: failed fast.
        case notConnected = "redis_not_connected"
        /// The TCP connection (with AUTH and SELECT) did not complete within `connectTimeout`, or was refused.
        case connectFailed = "redis_connect_failed"
        /// No reply within the command deadline; the connection was closed (its replies can no longer be paired).
        case commandTimeout = "redis_command_timeout"
        /// No reply within the caller's patience (``RedisClient/pipeline(_:patience:)``); the connection stays, the
        /// late replies are dropped when they come.
        case replyLate = "redis_reply_late"
        /// The server sent bytes that are not valid RESP2 or break a decoder limit; the connection was closed.
        case protocolError = "redis_protocol_error"
        /// `AUTH` was rejected.
        case authenticationFailed = "redis_authentication_failed"
        /// `SELECT` of the configured database was rejected.
        case selectFailed = "redis_select_failed"
        /// The command is empty (Redis would send no reply for it, which would break request/reply pairing).
        case invalidCommand = "redis_invalid_command"
        /// The pool (or connection) was shut down.
        case shutDown = "redis_shut_down"
    }

    /// The stable kind of failure.
    package var code: Code
    /// A human-readable explanation (no secrets).
    package var detail: String

    /// Creates an error of `code` with an explanation.
    package init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// `code: detail`.
    package var description: String { "\(code.rawValue): \(detail)" }
}

extension RedisClientError {
    static let closed = RedisClientError(.connectionClosed, "the Redis connection closed before the reply arrived")
    static let shutDown = RedisClientError(.shutDown, "the Redis client was shut down")
    static let emptyCommand = RedisClientError(.invalidCommand, "a Redis command needs at least its name")

    /// The error that pending requests fail with when the channel reports `error`.
    static func from(channelError error: any Error) -> RedisClientError {
        switch error {
        case let error as RedisClientError: error
        case let error as RESPDecodingError: RedisClientError(.protocolError, error.description)
        default: RedisClientError(.connectionClosed, "the Redis connection failed: \(error)")
        }
    }
}
