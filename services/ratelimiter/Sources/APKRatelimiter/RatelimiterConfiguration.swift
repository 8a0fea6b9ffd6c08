package import APKRedis
import NIOCore
package import APKRuntime
package import APKSupport
import Foundation
package import Logging

/// Everything `apk-ratelimiter` reads at start-up (see ``init(reader:)`` for the keys).
package struct RatelimiterConfiguration: Sendable {
    /// Where the rules come from.
    package enum RuleSource: Sendable {
        /// The adapter's ADS server (`RateLimitConfig` resources of node `nodeID`).
        case discovery(host: String, port: Int, nodeID: String)
        /// A fixed set from the settings (development, no adapter); `origin` names the setting.
        case fixed(RuleSet, origin: String)
    }

    /// The ops server (`/health`, `/ready`, `/metrics`).
    package var ops = HTTPServerSettings(host: "127.0.0.1", port: 8090)
    /// The RLS gRPC server (`envoy.service.ratelimit.v3.RateLimitService`).
    package var grpcHost = "127.0.0.1"
    /// The RLS gRPC port (0 in tests: any free port).
    package var grpcPort = 8091
    /// Which gRPC server answers `ShouldRateLimit`: `lean` (``UnaryGRPCServer``) or `grpc-swift` (to measure against).
    package var grpcServer = "lean"
    /// The lowest level logged.
    package var logLevel: Logger.Level = .info
    /// What `ShouldRateLimit` accepts.
    package var limits = RateLimitQueryLimits()
    /// The longest a decision waits for Redis before it fails open.
    package var deadline: Duration = .milliseconds(50)
    /// When the breaker opens and how long it stays open.
    package var breaker = CircuitBreaker.Configuration()
    /// Keys the over-limit cache holds at most (0 disables it).
    package var overLimitCacheEntries = 100_000
    /// The Redis server: one connection per event loop by default (a call's Redis request then goes out on its own
    /// gRPC connection's loop, and concurrent calls on that loop share one pipeline).
    package var redis = RedisConfiguration(
        connectTimeout: .seconds(1), commandTimeout: .seconds(1), maxConnections: System.coreCount,
        reconnectBackoff: Backoff(initial: .milliseconds(100), max: .seconds(2), jitter: 0.2))
    /// Where the rules come from.
    package var rules = RuleSource.discovery(host: "127.0.0.1", port: 18000, nodeID: "apk-ratelimiter")

    /// The defaults (see ``init(reader:)``).
    package init() {}

    /// Reads the configuration from environment variables (``ConfigReader``):
    ///
    /// | key | variable | default |
    /// |---|---|---|
    /// | `grpc.host` / `grpc.port` | `GRPC_HOST` / `GRPC_PORT` | `127.0.0.1` / `8091` (RLS) |
    /// | `grpc.server` | `GRPC_SERVER` | `lean` (the unary server on NIOHTTP2) or `grpc-swift` (grpc-swift-2) |
    /// | `http.host` / `http.port` | `HTTP_HOST` / `HTTP_PORT` | `127.0.0.1` / `8090` (ops) |
    /// | `log.level` | `LOG_LEVEL` | `info` |
    /// | `ratelimit.domain` | `RATELIMIT_DOMAIN` | `apk` (the router filter's `domain`) |
    /// | `ratelimit.deadline` | `RATELIMIT_DEADLINE` | `50ms` (then fail open) |
    /// | `ratelimit.max.descriptors` | `RATELIMIT_MAX_DESCRIPTORS` | `16` |
    /// | `ratelimit.max.hits.addend` | `RATELIMIT_MAX_HITS_ADDEND` | `1000000` |
    /// | `ratelimit.cache.entries` | `RATELIMIT_CACHE_ENTRIES` | `100000` (over-limit cache; 0 disables it) |
    /// | `breaker.failures` | `BREAKER_FAILURES` | `3` consecutive failures open it |
    /// | `breaker.backoff` / `breaker.backoff.max` | `BREAKER_BACKOFF` / `BREAKER_BACKOFF_MAX` | `250ms` / `5s` |
    /// | `redis.host` / `redis.port` | `REDIS_HOST` / `REDIS_PORT` | `127.0.0.1` / `6379` |
    /// | `redis.username` / `redis.password` | `REDIS_USERNAME` / `REDIS_PASSWORD` | unset (secret, never logged) |
    /// | `redis.database` | `REDIS_DATABASE` | `0` |
    /// | `redis.connections` | `REDIS_CONNECTIONS` | the core count (one per event loop) |
    /// | `redis.connect.timeout` | `REDIS_CONNECT_TIMEOUT` | `1s` |
    /// | `xds.host` / `xds.port` | `XDS_HOST` / `XDS_PORT` | `127.0.0.1` / `18000` (the adapter's ADS server) |
    /// | `xds.node.id` | `XDS_NODE_ID` | `apk-ratelimiter` (one of the adapter's `DISCOVERY_NODES`) |
    /// | `rules.json` | `RULES_JSON` | unset; static rules (JSON of `RateLimitConfig`s): no discovery |
    /// | `rules.file` | `RULES_FILE` | unset; the same JSON from a file |
    package init(reader: ConfigReader) throws {
        self.init()
        ops = try HTTPServerSettings(reader: reader, defaultHost: ops.host, defaultPort: ops.port)
        logLevel = try APKLogging.level(from: reader)
        grpcHost = reader.string("grpc.host", default: grpcHost)
        grpcPort = try reader.int("grpc.port", default: grpcPort, range: 0...65535)
        grpcServer = reader.string("grpc.server", default: grpcServer)
        guard ["lean", "grpc-swift"].contains(grpcServer) else {
            throw ConfigReader.Failure(key: "grpc.server", reason: "expected lean or grpc-swift, found \"\(grpcServer)\"")
        }
        limits.domain = reader.string("ratelimit.domain", default: limits.domain)
        deadline = try reader.duration("ratelimit.deadline", default: deadline)
        limits.maxDescriptors = try reader.int(
            "ratelimit.max.descriptors", default: limits.maxDescriptors, range: 1...1024)
        limits.maxHitsAddend = UInt64(
            try reader.int(
                "ratelimit.max.hits.addend", default: Int(limits.maxHitsAddend), range: 1...1_000_000_000))
        overLimitCacheEntries = try reader.int(
            "ratelimit.cache.entries", default: overLimitCacheEntries, range: 0...10_000_000)
        breaker.failureThreshold = try reader.int("breaker.failures", default: breaker.failureThreshold, range: 1...1000)
        breaker.backoff.initial = try reader.duration("breaker.backoff", default: breaker.backoff.initial)
        breaker.backoff.max = try reader.duration("breaker.backoff.max", default: breaker.backoff.max)
        guard breaker.backoff.max >= breaker.backoff.initial else {
            throw ConfigReader.Failure(key: "breaker.backoff.max", reason: "must not be below BREAKER_BACKOFF")
        }
        try readRedis(reader)
        rules = try Self.ruleSource(reader, default: rules)
    }

    private mutating func readRedis(_ reader: ConfigReader) throws {
        redis.host = reader.string("redis.host", default: redis.host)
        redis.port = try reader.int("redis.port", default: redis.port, range: 1...65535)
        redis.username = reader.string("redis.username")
        redis.password = reader.string("redis.password")
        redis.database = try reader.int("redis.database", default: redis.database, range: 0...1_000_000)
        redis.maxConnections = try reader.int("redis.connections", default: redis.maxConnections, range: 1...64)
        redis.connectTimeout = try reader.duration("redis.connect.timeout", default: redis.connectTimeout)
    }

    private static func ruleSource(_ reader: ConfigReader, default source: RuleSource) throws -> RuleSource {
        switch (reader.string("rules.json"), reader.string("rules.file")) {
        case (let json?, nil):
            return .fixed(try staticRules(json, key: "rules.json"), origin: "RULES_JSON")
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigReader.Failure(key: "rules.file", reason: "\(path) cannot be read")
            }
            return .fixed(try staticRules(String(decoding: data, as: UTF8.self), key: "rules.file"), origin: path)
        case (.some, .some):
            throw ConfigReader.Failure(key: "rules.file", reason: "set RULES_JSON or RULES_FILE, not both")
        case (nil, nil):
            guard case .discovery(let host, let port, let nodeID) = source else { return source }
            let node = reader.string("xds.node.id", default: nodeID)
            return .discovery(
                host: reader.string("xds.host", default: host),
                port: try reader.int("xds.port", default: port, range: 1...65535), nodeID: node)
        }
    }

    private static func staticRules(_ text: String, key: String) throws -> RuleSet {
        do {
            return try RuleSet(staticJSON: text)
        } catch {
            throw ConfigReader.Failure(key: key, reason: error.description)
        }
    }
}
