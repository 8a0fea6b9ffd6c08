import APKProtos
import APKRatelimiter
import APKRedis
import APKRuntime
import APKTestSupport
import APKXDS
import EnvoyGRPC
import EnvoyProtos
import Testing

/// Rules delivered by a test ADS server built from `XDSServerService` + `SnapshotCache` (the adapter's server
/// code) reach the running ratelimiter: readiness, updates, a rejected update (NACK) that keeps the last good set,
/// and a lost stream that keeps serving. Ops endpoints over HTTP.
@Suite(.timeLimit(.minutes(3)))
struct DiscoveryTests {
    static let node = "rl-test-node"

    static func snapshot(_ version: String, _ configs: [Apk_Discovery_V1_RateLimitConfig]) throws -> Snapshot {
        var snapshot = Snapshot()
        try snapshot.set(RuleDiscovery.typeURL, version: version, configs) { "\($0.organization)/\($0.environment)" }
        return snapshot
    }

    /// One decision through gRPC: the overall code and whether a limit applied.
    private static func ask(_ ratelimiter: RunningRatelimiter, _ value: String) async throws -> (String, Bool) {
        let response = try await ratelimiter.withClient { try await $0.shouldRateLimit(rlsRequest([value])) }
        return (response.overallCode == .overLimit ? "OVER" : "OK", response.statuses[0].hasCurrentLimit)
    }

    @Test func rulesFromTheDiscoveryServerReachTheService() async throws {
        APKMetrics.bootstrap()  // before the ratelimiter creates its metrics, so that /metrics shows them
        let cache = SnapshotCache()
        let ads = ADSService(cache: cache, logger: quietLogger)
        let server = XDSServerService(host: "127.0.0.1", port: 0, services: [ads])
        let serverTask = Task { try await server.run() }
        defer { serverTask.cancel() }
        let adsPort = try #require(await server.listeningPort())

        var configuration = RatelimiterConfiguration()
        configuration.rules = .discovery(host: "127.0.0.1", port: adsPort, nodeID: Self.node)
        let clock = ManualRatelimiterClock(unixSeconds: minuteStart)
        let opsPort = try FreePort.next()
        let ratelimiter = try await RunningRatelimiter.start(
            configuration, redis: InMemoryRedisClient(clock: clock.clock), clock: clock, opsPort: opsPort)
        defer { ratelimiter.task.cancel() }
        let application = ratelimiter.application
        let ops = "http://127.0.0.1:\(opsPort)"

        // No snapshot for the node yet: not ready, and every descriptor is allowed without a limit.
        #expect(try await Poll.until { (try? await HTTP.get("\(ops)/health").status) == 200 })
        #expect(try await HTTP.get("\(ops)/ready").status == 503)
        #expect(!application.isReady)
        #expect(try await Self.ask(ratelimiter, "api-d") == ("OK", false))

        let org1 = RuleSetTests.config("org1", "prod", [("api-d", 2, .minute)])
        cache.setSnapshot(node: Self.node, snapshot: try Self.snapshot("v1", [org1]))
        #expect(try await Poll.until { application.isReady })
        #expect(try await HTTP.get("\(ops)/ready").status == 200)
        #expect(try await Self.ask(ratelimiter, "api-d") == ("OK", true))
        #expect(try await Self.ask(ratelimiter, "api-d") == ("OK", true))
        #expect(try await Self.ask(ratelimiter, "api-d") == ("OVER", true))

        // A new version: another resource joins the union.
        let org2 = RuleSetTests.config("org2", "prod", [("op-d-GET-prod", 1, .minute)])
        cache.setSnapshot(node: Self.node, snapshot: try Self.snapshot("v2", [org1, org2]))
        #expect(try await Poll.until { application.rules.version == "v2" })
        #expect(application.discovery?.acceptedVersion(ofType: RuleDiscovery.typeURL) == "v2")
        #expect(try await Self.ask(ratelimiter, "op-d-GET-prod") == ("OK", true))
        #expect(try await Self.ask(ratelimiter, "op-d-GET-prod") == ("OVER", true))

        // A conflicting version is rejected (NACK) and the previous rules stay in force.
        let conflict = RuleSetTests.config("org2", "sandbox", [("op-d-GET-prod", 50, .minute)])
        cache.setSnapshot(node: Self.node, snapshot: try Self.snapshot("v3", [org1, org2, conflict]))
        #expect(try await Poll.until { ads.nacks.contains { $0.rejectedVersion == "v3" } })
        let nack = try #require(ads.nacks.first { $0.rejectedVersion == "v3" })
        #expect(nack.message.contains("ratelimit_conflicting_rules"))
        #expect(application.rules.version == "v2")
        #expect(try await Self.ask(ratelimiter, "op-d-GET-prod") == ("OVER", true))

        // The adapter goes away: the last good rules keep being enforced.
        serverTask.cancel()
        _ = await serverTask.result
        #expect(try await Poll.until { application.discovery?.connectionStatus.streamOpen == false })
        #expect(application.isReady)
        #expect(try await Self.ask(ratelimiter, "api-d") == ("OVER", true))
        #expect(try await Self.ask(ratelimiter, "unknown") == ("OK", false))

        let metrics = try await HTTP.get("\(ops)/metrics").text
        for line in [
            #"apk_ratelimiter_descriptors_total{decision="no_rule"}"#,
            #"apk_ratelimiter_descriptors_total{decision="over_limit_cached"}"#,
            #"apk_ratelimiter_rule_updates_total{result="rejected"}"#,
            "apk_ratelimiter_rules ",
        ] {
            #expect(metrics.contains(line), "\(line) missing from /metrics")
        }
        await ratelimiter.stop()
    }
}
