package import APKRedis
import APKRuntime
import APKUnaryGRPC
import APKSupport
import Metrics
package import APKXDS
package import Logging
package import ServiceLifecycle

extension RatelimiterConfiguration: ServiceConfiguration {}

/// The ratelimiter as its main runs it: the Redis pool, the rule discovery client (unless the rules are static),
/// the RLS gRPC server and the ops server, with typed handles on its parts for tests.
package struct RatelimiterApplication: ServiceApplication {
    /// The settings it was built from.
    package let configuration: RatelimiterConfiguration
    /// The rules in force.
    package let rules: RuleStore
    /// The decision logic behind the gRPC service.
    package let limiter: RateLimiter
    /// Redis behind its deadline and breaker.
    package let redisGuard: RedisGuard
    /// The RLS gRPC server's bound port once it listens (when configured with 0).
    package let grpcPort: @Sendable () async -> Int?
    /// The discovery client; nil with static rules.
    package let discovery: XDSClient?
    /// What main runs, in start order.
    package let services: [any Service]

    /// What the start-up log line says (no secrets: the Redis password is never part of the description).
    package var startupMetadata: Logger.Metadata {
        var metadata: Logger.Metadata = [
            "grpc.address": .string("\(configuration.grpcHost):\(configuration.grpcPort)"),
            "ops.address": .string(configuration.ops.baseURL),
            "redis.server": .string(configuration.redis.description),
            "ratelimit.domain": .string(configuration.limits.domain),
            "ratelimit.deadline": .string("\(configuration.deadline)"),
        ]
        switch configuration.rules {
        case .discovery(let host, let port, let nodeID):
            metadata["xds.address"] = .string("\(host):\(port)")
            metadata["xds.node.id"] = .string(nodeID)
        case .fixed(let rules, let origin):
            metadata["ratelimit.rules"] = .string("\(rules.count) static rules from \(origin)")
        }
        return metadata
    }

    /// True once rules are in force (`/ready`).
    package var isReady: Bool { rules.isReady }
}

/// Builds the ratelimiter. Tests replace Redis (`redis`: a fake, or a pool they own), the clock and the discovery
/// connector; production passes only the configuration and the logger.
package func buildApplication(
    configuration: RatelimiterConfiguration, logger: Logger, redis: (any RedisClient)? = nil,
    clock: any RatelimiterClock = SystemRatelimiterClock(), discoveryConnector: XDSClient.Connector? = nil
) throws -> RatelimiterApplication {
    let metrics = RatelimiterMetrics()
    var services: [any Service] = []
    let client: any RedisClient
    if let redis {
        client = redis
    } else {
        let pool = RedisConnectionPool(configuration: configuration.redis, logger: logger)
        services.append(RedisPoolService(pool: pool))
        client = pool
    }
    let store: RuleStore
    var discovery: XDSClient?
    switch configuration.rules {
    case .fixed(let rules, let origin):
        store = RuleStore(rules: rules, version: "static:\(origin)")
        metrics.rules.record(rules.count)
    case .discovery(let host, let port, let nodeID):
        store = RuleStore()
        let connector = discoveryConnector ?? .plaintext(host: host, port: port)
        let xds = RuleDiscovery.client(
            store: store, nodeID: nodeID, connector: connector, logger: logger, backoff: .defaults, metrics: metrics)
        services.append(xds)
        discovery = xds
    }
    let redisGuard = RedisGuard(
        redis: client, clock: clock, deadline: configuration.deadline, breaker: configuration.breaker, logger: logger,
        metrics: metrics)
    let limiter = RateLimiter(
        rules: store, redis: redisGuard, cache: OverLimitCache(capacity: configuration.overLimitCacheEntries),
        clock: clock, metrics: metrics)
    let service = RateLimitService(
        limiter: limiter, limits: configuration.limits, clock: clock, logger: logger, metrics: metrics)
    let grpcServer: any Service
    let grpcPort: @Sendable () async -> Int?
    if configuration.grpcServer == "grpc-swift" {
        let server = XDSServerService(host: configuration.grpcHost, port: configuration.grpcPort, services: [service])
        (grpcServer, grpcPort) = (server, { await server.listeningPort() })
    } else {
        let server = UnaryGRPCServer(
            host: configuration.grpcHost, port: configuration.grpcPort, methods: [service.shouldRateLimitMethod],
            logger: logger)
        (grpcServer, grpcPort) = (server, { await server.listeningPort() })
    }
    let ops = try APKServer.opsApplication(
        settings: configuration.ops, serverName: "apk-ratelimiter", logger: logger, readiness: { store.isReady })
    services += [grpcServer, ops]
    return RatelimiterApplication(
        configuration: configuration, rules: store, limiter: limiter, redisGuard: redisGuard, grpcPort: grpcPort,
        discovery: discovery, services: services)
}
