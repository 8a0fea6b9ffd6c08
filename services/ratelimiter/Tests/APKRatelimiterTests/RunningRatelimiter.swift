import APKRatelimiter
import APKRedis
import APKRuntime
import APKSupport
import APKXDS
import EnvoyGRPC
import EnvoyProtos
import GRPCCore
import GRPCNIOTransportHTTP2
import ServiceLifecycle
import Synchronization

/// A ratelimiter built by `buildApplication` exactly as its main builds it, running in-process on port 0.
struct RunningRatelimiter {
    typealias RLSClient = Envoy_Service_Ratelimit_V3_RateLimitService.Client<HTTP2ClientTransport.Posix>

    let application: RatelimiterApplication
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let port: Int

    /// Builds and starts the application; waits until its gRPC server listens. The ops server listens on `opsPort`
    /// (0: a port nobody learns; tests that call it pass a free one).
    static func start(
        _ configuration: RatelimiterConfiguration, redis: (any RedisClient)? = nil,
        clock: any RatelimiterClock = SystemRatelimiterClock(), discovery: XDSClient.Connector? = nil,
        opsPort: Int = 0
    ) async throws -> RunningRatelimiter {
        var configuration = configuration
        configuration.grpcPort = 0
        configuration.ops.port = opsPort
        let application = try buildApplication(
            configuration: configuration, logger: quietLogger, redis: redis, clock: clock,
            discoveryConnector: discovery)
        let group = ServiceGroup(services: application.services, logger: quietLogger)
        let task = Task { try await group.run() }
        guard let port = await application.grpcPort() else {
            task.cancel()
            throw RPCError(code: .unavailable, message: "the ratelimiter's gRPC server did not start")
        }
        return RunningRatelimiter(application: application, group: group, task: task, port: port)
    }

    /// Graceful shutdown, then waits for every service to stop.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    /// Runs `body` with an RLS client connected to this instance.
    func withClient<Result: Sendable>(_ body: (RLSClient) async throws -> Result) async throws -> Result {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        return try await withGRPCClient(transport: transport) { grpcClient in
            try await body(RLSClient(wrapping: grpcClient))
        }
    }
}

/// Wall-clock time held still by the test (windows never roll over mid-test), with real monotonic time: deadlines
/// and the breaker's back-off run on the continuous clock.
final class FrozenWallClock: RatelimiterClock {
    private let unix: Mutex<Int64>
    private let system = SystemRatelimiterClock()

    init(unixSeconds: Int64) {
        unix = Mutex(unixSeconds * 1_000_000_000)
    }

    var unixNanoseconds: Int64 { unix.withLock { $0 } }
    var monotonic: Duration { system.monotonic }

    func sleep(for duration: Duration) async throws {
        try await system.sleep(for: duration)
    }

    func advance(by duration: Duration) {
        unix.withLock { $0 += duration.nanoseconds }
    }
}

extension RatelimiterConfiguration {
    /// Static rules, loopback, port 0, and Redis on `redisPort` with generous connection-level timeouts (so that
    /// only the ratelimiter's own deadline bounds a decision).
    static func testing(rules: [RateLimitRule], redisPort: Int = 6379) throws -> RatelimiterConfiguration {
        var configuration = RatelimiterConfiguration()
        configuration.rules = .fixed(try RuleSet(rules: rules), origin: "test")
        configuration.redis.port = redisPort
        configuration.redis.connectTimeout = .seconds(60)
        configuration.redis.commandTimeout = .seconds(60)
        configuration.redis.reconnectBackoff = .init(initial: .milliseconds(20), max: .milliseconds(200))
        configuration.breaker = .init(failureThreshold: 3, backoff: .init(initial: .milliseconds(100), max: .milliseconds(500)))
        return configuration
    }

    /// ``testing(rules:redisPort:)`` for tests of counting, not of the deadline: a deadline of 5 s, so that the pool's
    /// first connection, or a Redis answer delayed by a loaded test run, is never a fail-open answer that would count
    /// as an allowed request.
    static func counting(rules: [RateLimitRule], redisPort: Int) throws -> RatelimiterConfiguration {
        var configuration = try testing(rules: rules, redisPort: redisPort)
        configuration.deadline = .seconds(5)
        return configuration
    }
}
