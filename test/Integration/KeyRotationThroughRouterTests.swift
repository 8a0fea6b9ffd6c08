import APKAuth
import APKTestSupport
import Foundation
import Testing

/// Signing-key rotation end to end: the deployer rotates its key every few seconds while tokens are used through a
/// real Envoy (and the enforcer) that cache the JWKS and never refetch it on an unknown `kid`. Because a new key is
/// published `SIGNING_KEY_PUBLISH_LEAD` before it signs, and the lead is longer than the gateway's JWKS cache period,
/// every fresh token is accepted at once, across rotations. (A key that signed as soon as it was created would be
/// refused for up to one cache period.)
@Suite(.enabled(if: GatewayStack.available, SkipMessage.gateway), .serialized)
struct KeyRotationThroughRouterTests {
    static let flow = DeployerFlowTests()

    /// A database of its own: rotating keys in the shared test database would rotate every other stack's keys too.
    static func privateDatabase() async throws -> String {
        let base = try #require(TestEnvironment.databaseURL)
        let name = "apk_rotation_\(UUID().uuidString.prefix(8).lowercased())"
        let created = try await Command.run(["psql", base, "-v", "ON_ERROR_STOP=1", "-qc", "CREATE DATABASE \(name)"], includeErrors: true)
        #expect(created.status == 0, "\(created.output)")
        return String(base[..<(base.lastIndex(of: "/") ?? base.endIndex)]) + "/" + name
    }

    @Test(arguments: [GatewayStack.Enforcement.native, .enforcer])
    func freshTokensAreAcceptedAcrossRotations(mode: GatewayStack.Enforcement) async throws {
        let environment = [
            "DATABASE_URL": try await Self.privateDatabase(),
            // Deployer: the second key is published 4 s after the first and signs 6 s later. Adapter (Envoy's jwt_authn)
            // and enforcer: the JWKS is fetched every 2 s, so the lead leaves 4 s of slack for a loaded machine, and a
            // key that signed at once would meet a JWKS up to 2 s old (a 1 ms lead fails this test).
            "SIGNING_KEY_MAX_AGE": "10s", "SIGNING_KEY_PUBLISH_LEAD": "6s", "AUTH_JWKS_CACHE_TTL": "2s",
        ]
        let stack = try await GatewayStack(label: "rotation-\(mode.rawValue)", enforcement: mode, environment: environment)
        defer { stack.stop() }
        let name = "gw-rot-\(UUID().uuidString.prefix(6).lowercased())"
        _ = try await TestAPI(name: name, operations: [.init(verb: "GET", target: "/get"), .init(verb: "GET", target: "/open", extra: "secured: false")])
            .deploy(stack, token: try await Self.flow.token(stack.deployer))
        try await stack.waitFor("/\(name)/1.0.0/open", host: "gw.wso2.com", status: 200)
        // Until the first fetch of the JWKS is done, Envoy may not know the first key either.
        try await stack.waitFor(
            "/\(name)/1.0.0/get", host: "gw.wso2.com", status: 200,
            headers: ["Authorization": "Bearer \(try await Self.flow.token(stack.deployer))"])

        // Fresh token after fresh token, each used at once, until a second key has signed (a rotation).
        var kids: [String] = []
        var refused: [String] = []
        var calls = 0
        let rotated = try await Poll.until(every: .milliseconds(100)) {
            let token = try await Self.flow.token(stack.deployer)
            let kid = (try? CompactJWS.parse(token))?.keyID ?? "?"
            if kids.last != kid { kids.append(kid) }
            let answer = try await stack.call("/\(name)/1.0.0/get", host: "gw.wso2.com", headers: ["Authorization": "Bearer \(token)"])
            calls += 1
            if answer.status != 200 { refused.append("\(kid.prefix(8)): \(answer.status)") }
            return Set(kids).count >= 2
        }
        #expect(rotated, "keys seen: \(kids)")
        #expect(refused.isEmpty, "\(refused.count) of \(calls) fresh tokens refused: \(refused.prefix(10))")
        #expect(Set(kids).count == kids.count, "a key signed again after its successor: \(kids)")
    }
}
