import APKDeployer
import APKModel
import Foundation
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import Testing
import APKAuth
import APKHTTPClient

/// Tokens of external issuers (`AUTH_ISSUERS`), verified with their JWKS.
@Suite struct ExternalIssuerTests {
    static let issuer = "https://idp.example.com"

    /// End to end: the JWKS is served by a real HTTP server on port 0 and fetched with AsyncHTTPClient.
    @Test func es256TokenOfAConfiguredIssuerIsAccepted() async throws {
        let key = ES256PrivateKey()
        let router = Router()
        router.get("jwks") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: ExternalIssuer.jwks(key, kid: "ext-1"))))
        }
        let jwksServer = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: TestDeployer.logger)
        try await jwksServer.test(.live) { server in
            let port = try #require(server.port)
            try await HTTPJWKSFetcher.withTemporaryClient(timeout: .seconds(5)) { fetcher in
                let test = TestDeployer(
                    configure: {
                        $0.auth.externalIssuers = [.init(issuer: Self.issuer, jwksURL: "http://127.0.0.1:\(port)/jwks")]
                    }, fetcher: fetcher)
                let token = try await ExternalIssuer.sign(issuer: Self.issuer, key: key, kid: "ext-1", now: test.clock.now)
                try await test.test { client in
                    let list = try await client.get(Paths.list, token: token)
                    #expect(list.status == .ok)
                    #expect(try await client.deploy(token: token).status == .ok)
                    let other = try await ExternalIssuer.sign(
                        issuer: Self.issuer, key: ES256PrivateKey(), kid: "ext-1", now: test.clock.now)
                    #expect(try await client.get(Paths.list, token: other).status == .unauthorized)
                }
            }
        }
    }

    @Test func unknownKidRefetchesAtMostOncePerInterval() async throws {
        let first = ES256PrivateKey()
        let second = ES256PrivateKey()
        let fetcher = CountingFetcher(document: ExternalIssuer.jwks(first, kid: "one"))
        let test = TestDeployer(
            configure: {
                $0.auth.externalIssuers = [.init(issuer: Self.issuer, jwksURL: "https://idp.example.com/jwks")]
                $0.auth.jwksMinRefetchInterval = .seconds(30)
            }, fetcher: fetcher)
        try await test.test { client in
            let good = try await ExternalIssuer.sign(issuer: Self.issuer, key: first, kid: "one", now: test.clock.now)
            #expect(try await client.get(Paths.list, token: good).status == .ok)
            #expect(try await client.get(Paths.list, token: good).status == .ok)
            #expect(fetcher.calls == 1)
            // The issuer rotates: the new kid is unknown, but the last fetch was too recent to fetch again.
            fetcher.set(document: ExternalIssuer.jwks(second, kid: "two"))
            let rotated = try await ExternalIssuer.sign(issuer: Self.issuer, key: second, kid: "two", now: test.clock.now)
            #expect(try await client.get(Paths.list, token: rotated).status == .unauthorized)
            #expect(try await client.get(Paths.list, token: rotated).status == .unauthorized)
            #expect(fetcher.calls == 1)
            test.clock.advance(seconds: 31)
            let later = try await ExternalIssuer.sign(issuer: Self.issuer, key: second, kid: "two", now: test.clock.now)
            #expect(try await client.get(Paths.list, token: later).status == .ok)
            #expect(fetcher.calls == 2)
        }
    }

    @Test func externalTokenWithoutOrganizationIsInTheDefaultOrganization() async throws {
        let key = ES256PrivateKey()
        let test = TestDeployer(
            configure: { $0.auth.externalIssuers = [.init(issuer: Self.issuer, jwksURL: "https://idp.example.com/jwks")] },
            fetcher: CountingFetcher(document: ExternalIssuer.jwks(key, kid: "k")))
        try await test.test { client in
            let devToken = try await Tokens.fetch(client)
            #expect(try await client.deploy(token: devToken).status == .ok)
            let token = try await ExternalIssuer.sign(
                issuer: Self.issuer, key: key, kid: "k", organization: nil, now: test.clock.now)
            let list = try JSON.parse(try await client.get(Paths.list, token: token))
            #expect(list["count"] == 1)
        }
    }
}
