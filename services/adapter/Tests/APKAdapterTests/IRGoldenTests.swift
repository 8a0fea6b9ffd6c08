import APKAdapter
import APKModel
import APKTestSupport
import EnvoyProtos
import Foundation
import SwiftProtobuf
import Testing

/// Stage 2 alone, one IR feature per case: a hand-written IR (`test/fixtures/adapter/ir/<case>.ir.json`) → the API's
/// Envoy resources (`test/fixtures/golden/adapter/ir/<case>.xds.json`). Each case also states, independently of its
/// golden file, what the feature must become in Envoy. `APK_UPDATE_GOLDEN=1` rewrites the expected files.
@Suite struct IRGoldenTests {
    static let cases = [
        "forward", "retry", "redirect", "headers", "mirror", "default-version", "root-base-path", "backend-tls",
        "health-check", "environments",
    ]

    static func resources(_ name: String) throws -> APIResources {
        let ir = try JSONDecoder().decode(APIIR.self, from: Fixtures.data("adapter/ir/\(name).ir.json"))
        return try XDSTranslator.resources(for: ir, settings: AdapterFixtures.settings)
    }

    static func table(_ routes: [RouteKey: [Envoy_Config_Route_V3_Route]]) throws -> JSONValue {
        .array(try routes.keys.sorted().map { key in
            .object(JSONObject([
                ("segment", .string(key.segment)),
                ("host", .string(key.host)),
                ("routes", .array(try (routes[key] ?? []).map(AdapterFixtures.json))),
            ]))
        })
    }

    @Test(arguments: cases)
    func irToXDS(name: String) throws {
        let output = try Self.resources(name)
        let document = JSONValue.object(JSONObject([
            ("versionedRoutes", try Self.table(output.versionedRoutes)),
            ("defaultVersionRoutes", try Self.table(output.defaultVersionRoutes)),
            ("clusters", .array(try output.clusters.map(AdapterFixtures.json))),
            ("unscopedOperations", .array(output.unscopedOperations.map(JSONValue.string))),
        ]))
        if let difference = try Golden.difference(
            DocumentWriter.json(document, pretty: true) + "\n", goldenFile: "golden/adapter/ir/\(name).xds.json")
        {
            Issue.record("\(difference)")
        }
    }

    static func onlyRoutes(_ output: APIResources) -> [Envoy_Config_Route_V3_Route] {
        output.versionedRoutes.keys.sorted().flatMap { output.versionedRoutes[$0] ?? [] }
    }

    @Test func forwardMatchesMethodAndRegexAndRewritesTheBackendPath() throws {
        let output = try Self.resources("forward")
        #expect(output.versionedRoutes.keys.sorted() == [RouteKey(segment: "shop", host: "default.gw.wso2.com")])
        let routes = Self.onlyRoutes(output)
        #expect(routes.count == 3)
        let get = routes[0]
        #expect(get.match.safeRegex.regex == #"^/shop/1\.0\.0/items/(.*)([/]{0,1})"#)
        #expect(get.match.headers.first { $0.name == ":method" }?.stringMatch.exact == "GET")
        #expect(get.route.cluster == "default/plain")
        #expect(get.route.regexRewrite.substitution == #"/v1/items/\1"#)
        #expect(get.route.autoHostRewrite.value, "the Host header becomes the backend's host")
        #expect(get.route.timeout.seconds == 60 && get.route.idleTimeout.seconds == 300)
        #expect(!routes[1].route.hasRegexRewrite, "no rewrite: the path is kept")
        #expect(!routes[2].match.headers.contains { $0.name == ":method" }, "a route without a method matches every method")
    }

    @Test func retryPolicyCarriesAttemptsBackOffAndStatusCodes() throws {
        let route = try #require(Self.onlyRoutes(try Self.resources("retry")).first)
        #expect(route.route.retryPolicy.numRetries.value == 3)
        #expect(route.route.retryPolicy.retriableStatusCodes == [500, 503, 504])
        #expect(route.route.retryPolicy.retryBackOff.baseInterval.nanos == 250_000_000)
    }

    @Test func redirectAnswersWithoutACluster() throws {
        let routes = Self.onlyRoutes(try Self.resources("redirect"))
        #expect(routes.count == 2)
        #expect(routes.allSatisfy {
            if case .redirect = $0.action { true } else { false }
        })
        #expect(routes[0].redirect.schemeRedirect == "https" && routes[0].redirect.hostRedirect == "new.example.com")
        #expect(routes[0].redirect.portRedirect == 8443 && routes[0].redirect.pathRedirect == "/new")
        #expect(routes[0].redirect.responseCode == .movedPermanently)
        #expect(routes[1].redirect.responseCode == .found && routes[1].redirect.pathRedirect.isEmpty)
    }

    @Test func headerChangesApplyToRequestAndResponse() throws {
        let route = try #require(Self.onlyRoutes(try Self.resources("headers")).first)
        // The API's own removals, then the internal key (a secured route never forwards it).
        #expect(route.requestHeadersToRemove == ["x-internal", "cookie", "internal-key", "x-apk-auth", "x-apk-consumer-key", "x-apk-application"])
        #expect(route.requestHeadersToAdd.map(\.header.key) == ["x-env", "x-trace", "x-trace"])
        #expect(route.responseHeadersToRemove == ["server"])
        #expect(route.responseHeadersToAdd.map(\.header.value) == ["no-store"])
    }

    @Test func mirrorSendsACopyToTheShadowCluster() throws {
        let output = try Self.resources("mirror")
        let route = try #require(Self.onlyRoutes(output).first)
        #expect(route.route.requestMirrorPolicies.map(\.cluster) == ["default/shadow"])
        #expect(Set(output.clusters.map(\.name)) == ["default/main", "default/shadow"])
    }

    @Test func defaultVersionIsAlsoServedWithoutTheVersion() throws {
        let output = try Self.resources("default-version")
        let versioned = try #require(output.versionedRoutes.values.first?.first)
        let unversioned = try #require(output.defaultVersionRoutes.values.first?.first)
        #expect(versioned.match.safeRegex.regex.hasPrefix(#"^/catalog/3\.0/books/"#))
        #expect(unversioned.match.safeRegex.regex.hasPrefix("^/catalog/books/"))
        #expect(unversioned.route.cluster == versioned.route.cluster)
    }

    @Test func rootBasePathScopesByTheOperationAndReportsWhatNoScopeHolds() throws {
        let output = try Self.resources("root-base-path")
        #expect(output.defaultVersionRoutes.keys.map(\.segment) == ["pets"])
        #expect(output.unscopedOperations == ["PRODUCTION GET /(.*) (default version)"])
        #expect(output.versionedRoutes.keys.map(\.segment) == ["1.0"], "the versioned routes live under /1.0")
    }

    @Test func backendTLSTrustsTheGivenCAAndChecksSANs() throws {
        let output = try Self.resources("backend-tls")
        let secure = try #require(output.clusters.first { $0.name == "default/secure" })
        let public_ = try #require(output.clusters.first { $0.name == "default/public" })
        #expect(secure.transportSocket.name == "envoy.transport_sockets.tls")
        let context = try Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext(
            serializedBytes: secure.transportSocket.typedConfig.value)
        #expect(context.sni == "secure.example.com")
        #expect(context.commonTlsContext.validationContext.trustedCa.inlineString.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(context.commonTlsContext.validationContext.matchTypedSubjectAltNames.map(\.matcher.exact)
            == ["secure.example.com", "alt.example.com"])
        let publicContext = try Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext(
            serializedBytes: public_.transportSocket.typedConfig.value)
        #expect(publicContext.sni == "api.example.org")
        #expect(publicContext.commonTlsContext.validationContext.trustedCa.filename == XDSTranslator.systemTrustStore,
            "no CA given: the system trust store")
    }

    @Test func healthCheckAndCircuitBreakerReachTheCluster() throws {
        let cluster = try #require(try Self.resources("health-check").clusters.first)
        let thresholds = try #require(cluster.circuitBreakers.thresholds.first)
        #expect(thresholds.maxConnections.value == 10 && thresholds.maxPendingRequests.value == 20)
        #expect(thresholds.maxRequests.value == 30 && thresholds.maxRetries.value == 1)
        let health = try #require(cluster.healthChecks.first)
        #expect(health.timeout.seconds == 2 && health.interval.seconds == 10)
        #expect(health.unhealthyThreshold.value == 3 && health.healthyThreshold.value == 2)
    }

    @Test func environmentsAreSeparateVirtualHosts() throws {
        let output = try Self.resources("environments")
        #expect(output.versionedRoutes.keys.map(\.host).sorted()
            == ["acme.gw.wso2.com", "acme.sandbox.gw.wso2.com", "default.gw.wso2.com"])
        let sandbox = try #require(output.versionedRoutes[RouteKey(segment: "both", host: "acme.sandbox.gw.wso2.com")])
        #expect(sandbox.map(\.route.cluster) == ["default/sandbox"])
        let production = try #require(output.versionedRoutes[RouteKey(segment: "both", host: "default.gw.wso2.com")])
        #expect(production.map(\.route.cluster) == ["default/prod"])
    }
}
