import APKRatelimiter
import APKRedis
import APKRuntime
import APKSupport
import Foundation
import NIOCore
import Testing

/// Settings from the environment: defaults, every key, and bad values named by key.
@Suite struct ConfigurationTests {
    private func read(_ environment: [String: String]) throws -> RatelimiterConfiguration {
        try RatelimiterConfiguration(reader: ConfigReader(environment: environment))
    }

    @Test func defaults() throws {
        let configuration = try read([:])
        #expect(configuration.grpcPort == 8091 && configuration.ops.port == 8090)
        #expect(configuration.grpcHost == "127.0.0.1" && configuration.ops.host == "127.0.0.1")
        #expect(configuration.limits == RateLimitQueryLimits(domain: "apk", maxDescriptors: 16, maxHitsAddend: 1_000_000))
        #expect(configuration.deadline == .milliseconds(50))
        #expect(configuration.breaker.failureThreshold == 3)
        #expect(configuration.redis.host == "127.0.0.1" && configuration.redis.port == 6379)
        // One Redis connection per event loop of NIO's shared group (a call uses its own loop's).
        #expect(configuration.redis.maxConnections == System.coreCount && configuration.redis.password == nil)
        guard case .discovery(let host, let port, let node) = configuration.rules else {
            Issue.record("rules come from discovery by default")
            return
        }
        #expect(host == "127.0.0.1" && port == 18000 && node == "apk-ratelimiter")
    }

    @Test func everyKey() throws {
        let configuration = try read([
            "GRPC_PORT": "9191", "HTTP_PORT": "9190", "RATELIMIT_DOMAIN": "gw", "RATELIMIT_DEADLINE": "20ms",
            "RATELIMIT_MAX_DESCRIPTORS": "4", "RATELIMIT_MAX_HITS_ADDEND": "10", "RATELIMIT_CACHE_ENTRIES": "0",
            "BREAKER_FAILURES": "5", "BREAKER_BACKOFF": "1s", "BREAKER_BACKOFF_MAX": "10s",
            "REDIS_HOST": "redis.local", "REDIS_PORT": "6380", "REDIS_PASSWORD": "s3cret", "REDIS_DATABASE": "2",
            "REDIS_CONNECTIONS": "2", "XDS_HOST": "adapter", "XDS_PORT": "18005", "XDS_NODE_ID": "gw-1",
        ])
        #expect(configuration.grpcPort == 9191 && configuration.ops.port == 9190)
        #expect(configuration.limits == RateLimitQueryLimits(domain: "gw", maxDescriptors: 4, maxHitsAddend: 10))
        #expect(configuration.deadline == .milliseconds(20) && configuration.overLimitCacheEntries == 0)
        #expect(configuration.breaker.failureThreshold == 5)
        #expect(configuration.breaker.backoff.initial == .seconds(1) && configuration.breaker.backoff.max == .seconds(10))
        #expect(configuration.redis.host == "redis.local" && configuration.redis.port == 6380)
        #expect(configuration.redis.database == 2 && configuration.redis.maxConnections == 2)
        #expect(configuration.redis.password == "s3cret")
        #expect(!configuration.redis.description.contains("s3cret"))
        guard case .discovery(let host, let port, let node) = configuration.rules else {
            Issue.record("discovery expected")
            return
        }
        #expect(host == "adapter" && port == 18005 && node == "gw-1")
    }

    @Test func staticRulesFromASettingOrAFile() throws {
        let json = #"{"rules":[{"descriptorValue":"demo","limit":{"requestsPerUnit":5,"unit":"MINUTE"}}]}"#
        guard case .fixed(let inline, _) = try read(["RULES_JSON": json]).rules else {
            Issue.record("RULES_JSON makes the rules static")
            return
        }
        #expect(inline["demo"]?.requestsPerUnit == 5)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rl-rules-\(UUID().uuidString).json")
        try Data(json.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        guard case .fixed(let fromFile, let origin) = try read(["RULES_FILE": file.path]).rules else {
            Issue.record("RULES_FILE makes the rules static")
            return
        }
        #expect(fromFile == inline && origin == file.path)
    }

    @Test(arguments: [
        (["RATELIMIT_DEADLINE": "0ms"], "ratelimit.deadline"),
        (["GRPC_PORT": "70000"], "grpc.port"),
        (["RATELIMIT_MAX_HITS_ADDEND": "0"], "ratelimit.max.hits.addend"),
        (["BREAKER_BACKOFF": "10s", "BREAKER_BACKOFF_MAX": "1s"], "breaker.backoff.max"),
        (["RULES_JSON": "{", "XDS_HOST": "x"], "rules.json"),
        (["RULES_JSON": "{}", "RULES_FILE": "/x"], "rules.file"),
        (["RULES_FILE": "/nonexistent/rules.json"], "rules.file"),
        (["REDIS_CONNECTIONS": "0"], "redis.connections"),
    ])
    func badValuesNameTheirKey(_ environment: [String: String], key: String) {
        do {
            _ = try read(environment)
            Issue.record("\(environment) must be refused")
        } catch let failure as ConfigReader.Failure {
            #expect(failure.key == key)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
