import APKAuth
import APKAuthPlan
import APKEnforcer
import APKTestTokens
import Foundation
import Logging
import Synchronization
import Testing

/// A JWKS source the test controls: a document per URL, or a failure.
final class ScriptedFetcher: JWKSFetcher {
    struct Down: Error {}
    let documents = Mutex<[String: String]>([:])
    let fetches = Atomic<Int>(0)

    func fetchJWKS(from url: String) async throws -> [UInt8] {
        fetches.add(1, ordering: .relaxed)
        guard let document = documents.withLock({ $0[url] }) else { throw Down() }
        return Array(document.utf8)
    }
}

@Suite struct KeyRingTests {
    static let builtIn = "http://deployer.test/oauth2/jwks"
    static let external = "http://other.test/jwks"

    func ring(_ fetcher: ScriptedFetcher) -> KeyRing {
        var configuration = EnforcerConfiguration()
        configuration.jwksURL = Self.builtIn
        configuration.externalIssuers = [("https://other.test", Self.external)]
        return KeyRing(sources: configuration.keySources, fetcher: fetcher, cacheTTL: .seconds(300), logger: Logger(label: "test"))
    }

    @Test func readyOnceTheBuiltInIssuerIsFetchedAndFailuresKeepTheKeys() async throws {
        let tokens = try TokenFactory(issuer: "https://idp.am.wso2.com/token", internalIssuer: "https://idp.am.wso2.com/internal-key", now: 0)
        let fetcher = ScriptedFetcher()
        let ring = ring(fetcher)
        #expect(!ring.isReady)
        #expect(ring.keys.accessTokenIssuers["https://idp.am.wso2.com/token"]?.isEmpty == true)

        #expect(await ring.refresh(0) == false, "unreachable: not ready, no keys")
        #expect(!ring.isReady)
        fetcher.documents.withLock { $0[Self.builtIn] = tokens.jwks }
        #expect(await ring.refresh(0))
        #expect(ring.isReady, "the external issuer is not needed for readiness")
        let keys = ring.keys
        #expect(keys.accessTokenIssuers["https://idp.am.wso2.com/token"]?.map(\.kid) == [tokens.keyID])
        #expect(keys.internalKeys.map(\.kid) == [tokens.keyID])
        #expect(keys.internalKeyIssuer == "https://idp.am.wso2.com/internal-key")
        #expect(keys.accessTokenIssuers["https://other.test"]?.isEmpty == true)

        // The JWKS goes down, or answers garbage: the keys fetched before stay in use.
        fetcher.documents.withLock { $0[Self.builtIn] = nil }
        #expect(await ring.refresh(0) == false)
        fetcher.documents.withLock { $0[Self.builtIn] = "not json" }
        #expect(await ring.refresh(0) == false)
        #expect(ring.keys.internalKeys.map(\.kid) == [tokens.keyID])

        // External issuer keys join under their own issuer only.
        fetcher.documents.withLock { $0[Self.external] = tokens.jwks }
        #expect(await ring.refresh(1))
        #expect(ring.keys.accessTokenIssuers["https://other.test"]?.count == 1)
        #expect(ring.keys.internalKeys.count == 1)
    }
}
