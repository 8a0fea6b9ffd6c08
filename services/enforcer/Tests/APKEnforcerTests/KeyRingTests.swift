import APKAuth
import APKAuthPlan
import APKProtos
import CryptoExtras
import APKEnforcer
import APKTestTokens
import Foundation
import Logging
import Synchronization
import Testing

/// A JWKS source the test controls: a document per URL, or a failure; remembers the trusted CA each URL was fetched
/// with.
final class ScriptedFetcher: JWKSFetcher {
    struct Down: Error {}
    let documents = Mutex<[String: String]>([:])
    let trustedCAs = Mutex<[String: String]>([:])
    let fetches = Atomic<Int>(0)

    func fetchJWKS(from url: String, trustedCA: String?) async throws -> [UInt8] {
        fetches.add(1, ordering: .relaxed)
        trustedCAs.withLock { $0[url] = trustedCA ?? "system" }
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

/// The organizations' `TokenIssuer`s as APK discovery delivers them (``IssuerDiscovery``): JWKS fetched before the
/// update is acknowledged, certificates read at once, removed issuers forgotten, unusable ones skipped; ready only
/// after the first update.
@Suite struct IssuerDiscoveryTests {
    static func message(_ organization: String, _ name: String, jwks: String? = nil, certificate: String? = nil)
        -> Apk_Discovery_V1_TokenIssuer
    {
        var message = Apk_Discovery_V1_TokenIssuer()
        message.organization = organization
        message.name = name
        message.issuer = "https://\(name).example"
        if let jwks { message.jwksURL = jwks }
        if let certificate { message.certificate = certificate }
        return message
    }

    @Test func issuersFollowEachUpdate() async throws {
        let tokens = try TokenFactory(issuer: "https://partner.example", internalIssuer: "https://i.example", now: 0)
        let fetcher = ScriptedFetcher()
        fetcher.documents.withLock { $0["http://partner.test/jwks"] = tokens.jwks }
        let ring = KeyRing(sources: [], fetcher: fetcher, cacheTTL: .seconds(300), logger: Logger(label: "test"))
        let discovery = IssuerDiscovery(keys: ring, logger: Logger(label: "test"))
        #expect(!discovery.hasReceived)
        let certificate = try #require(tokens.key.publicKey.pemRepresentation as String?)
        await discovery.apply([
            Self.message("acme", "partner", jwks: "http://partner.test/jwks"),
            Self.message("acme", "certs", certificate: certificate),
            Self.message("acme", "nokeys"),
            Self.message("", "anonymous", certificate: certificate),
            Self.message("acme", "badurl", jwks: "file:///etc/passwd"),
            Self.message("acme", "badcert", certificate: "-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----"),
        ])
        #expect(discovery.hasReceived)
        var keys = ring.keys
        #expect(keys.tokenIssuers.keys.sorted() == ["acme/certs", "acme/partner"])
        #expect(keys.tokenIssuers["acme/partner"]?.map(\.kid) == [tokens.keyID], "fetched before apply returned")
        #expect(keys.tokenIssuers["acme/certs"]?.count == 1 && keys.tokenIssuers["acme/certs"]?.first?.kid == nil)
        let generation = keys.generation

        // The partner goes away; the certificate issuer stays without a fetch.
        let fetches = fetcher.fetches.load(ordering: .relaxed)
        await discovery.apply([Self.message("acme", "certs", certificate: certificate)])
        keys = ring.keys
        #expect(keys.tokenIssuers.keys.sorted() == ["acme/certs"])
        #expect(keys.generation > generation, "what the removed issuer verified is forgotten")
        #expect(fetcher.fetches.load(ordering: .relaxed) == fetches)

        // An unreachable JWKS: the issuer is known, without keys (its tokens fail) until a fetch succeeds.
        await discovery.apply([Self.message("acme", "late", jwks: "http://late.test/jwks")])
        #expect(ring.keys.tokenIssuers["acme/late"] == nil)
    }

    /// `jwks.tls.certificateInline` reaches the fetch of that issuer's JWKS (the HTTPS fetch itself:
    /// `TokenIssuerTests` through the router, in both modes); a changed CA is a changed issuer, fetched again.
    @Test func aJWKSServersTrustedCAIsUsedForItsFetch() async throws {
        let tokens = try TokenFactory(issuer: "https://partner.example", internalIssuer: "https://i.example", now: 0)
        let fetcher = ScriptedFetcher()
        fetcher.documents.withLock { $0["https://partner.test/jwks"] = tokens.jwks }
        let ring = KeyRing(sources: [], fetcher: fetcher, cacheTTL: .seconds(300), logger: Logger(label: "test"))
        let discovery = IssuerDiscovery(keys: ring, logger: Logger(label: "test"))
        var message = Self.message("acme", "partner", jwks: "https://partner.test/jwks")
        message.jwksTrustedCa = "PEM one"
        await discovery.apply([message])
        #expect(fetcher.trustedCAs.withLock { $0["https://partner.test/jwks"] } == "PEM one")
        #expect(ring.keys.tokenIssuers["acme/partner"]?.count == 1)
        message.jwksTrustedCa = "PEM two"
        await discovery.apply([message])
        #expect(fetcher.trustedCAs.withLock { $0["https://partner.test/jwks"] } == "PEM two")
        message.jwksTrustedCa = ""
        await discovery.apply([message])
        #expect(fetcher.trustedCAs.withLock { $0["https://partner.test/jwks"] } == "system", "none: the system's")
    }
}
