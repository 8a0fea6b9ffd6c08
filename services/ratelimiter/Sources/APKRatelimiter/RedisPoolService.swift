package import APKRedis
import ServiceLifecycle

/// Owns the Redis connection pool: idle while the service group runs, shuts the pool down on graceful shutdown
/// (after the gRPC server, which is started later and so stopped earlier).
package struct RedisPoolService: Service, CustomStringConvertible {
    /// The pool.
    package let pool: RedisConnectionPool

    /// Owns `pool`.
    package init(pool: RedisConnectionPool) {
        self.pool = pool
    }

    package var description: String { "RedisPoolService" }

    package func run() async throws {
        // Returns on graceful shutdown; on cancellation too (the pool must be shut down either way).
        try? await gracefulShutdown()
        await pool.shutdown()
    }
}
