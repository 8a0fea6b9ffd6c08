import APKAuth
import APKAuthPlan
import APKModel
import APKTestTokens
import Testing

/// The enforcer's verification cache changes how fast a decision is, never what it is.
@Suite struct VerificationCacheTests {
    let api = try! AuthPlanBuilder.api(id: "api-1", organization: "default", authentication: nil, policy: nil)
    let operation = OperationAuthPlan(target: "/orders/{id}", secured: true, scopes: ["orders:read"])

    func decide(_ headers: [(String, String)], keys: TrustedKeys = F.keys, now: Double = F.now, cache: VerificationCache?) -> Decision {
        AuthEvaluator.decide(
            api: api, operation: operation, keyType: .production,
            request: AuthRequest(method: "GET", headers: headers.map { (name: $0.0, value: $0.1) }), keys: keys, now: now,
            cache: cache)
    }

    @Test func everyCaseDecidesAlikeWithAndWithoutTheCacheTwice() {
        let cache = VerificationCache()
        var cases = HostileCase.all.map(\.headers)
        cases += [
            [("Authorization", "Bearer " + F.token())],
            [("Authorization", "Bearer " + F.token(F.claims([("scope", "orders:write")])))],
            [("Internal-Key", F.internalKey(api: "api-1"))],
            [("Internal-Key", F.internalKey(api: "api-1", keyType: "SANDBOX"))],
        ]
        for headers in cases {
            let plain = decide(headers, cache: nil)
            #expect(decide(headers, cache: cache) == plain, "first use: \(headers.map(\.0))")
            #expect(decide(headers, cache: cache) == plain, "cached: \(headers.map(\.0))")
        }
        // Verified credentials are kept even when the request is then refused (another API's key): verification is
        // not authorization, which runs on every use.
        #expect(cache.count >= 4)
    }

    @Test func aCachedTokenStillExpiresAndANewKeyGenerationForgetsIt() {
        let cache = VerificationCache()
        let token = [("Authorization", "Bearer " + F.token())]
        guard case .allow = decide(token, cache: cache) else {
            Issue.record("a valid token was refused")
            return
        }
        // exp is now + 3600, with 30 s of clock skew.
        guard case .deny(_, let reason) = decide(token, now: F.now + 3700, cache: cache) else {
            Issue.record("an expired cached token was allowed")
            return
        }
        #expect(reason == TokenRejection.expired.reason)
        // The signing key leaves the key set (a new generation): the cached verification no longer counts.
        var rotated = F.keys
        rotated.accessTokenIssuers[F.issuer] = []
        rotated.generation += 1
        guard case .deny = decide(token, keys: rotated, cache: cache) else {
            Issue.record("a token of a removed key was allowed from the cache")
            return
        }
    }

    @Test func longTokensAreNotKept() {
        let cache = VerificationCache()
        let long = F.token(F.claims([("padding", .string(String(repeating: "x", count: 5000)))]))
        _ = decide([("Authorization", "Bearer " + long)], cache: cache)
        #expect(cache.count == 0)
        let small = VerificationCache(limit: 1)
        _ = decide([("Authorization", "Bearer " + F.token())], cache: small)
        _ = decide([("Internal-Key", F.internalKey(api: "api-1"))], cache: small)
        #expect(small.count == 1, "bounded")
    }
}
