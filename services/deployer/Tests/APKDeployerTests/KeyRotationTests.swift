import APKDeployer
import APKModel
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import APKSupport

/// Signing-key rotation: old tokens stay valid, the JWKS publishes both keys until the old one retires.
@Suite struct KeyRotationTests {
    private func jwksKids(_ client: any TestClientProtocol) async throws -> [String] {
        let response = try await client.execute(uri: "/oauth2/jwks", method: .get)
        return try JSON.parse(response)["keys"]?.arrayValue?.compactMap { $0["kid"]?.stringValue } ?? []
    }

    /// A new key is in the JWKS at once but signs only after the publish lead (gateways cache the JWKS and do not
    /// refetch it on an unknown `kid`); old tokens stay valid; the old key leaves the JWKS when its tokens are gone.
    @Test func rotationPublishesTheNewKeyBeforeItSignsAndKeepsOldTokensValid() async throws {
        let test = TestDeployer()
        let lead = test.deployer.configuration.signingKeys.publishLead.seconds
        try await test.test { client in
            let before = try await Tokens.fetch(client)
            let oldKid = try #require(try Tokens.decode(before).header["kid"]?.stringValue)
            let newKid = try await test.deployer.keys.rotate()
            #expect(newKid != oldKid)
            #expect(try await jwksKids(client) == [newKid, oldKid], "published at once")
            let meanwhile = try await Tokens.fetch(client)
            #expect(try Tokens.decode(meanwhile).header["kid"]?.stringValue == oldKid, "not signing yet")
            test.clock.advance(seconds: lead - 1)
            #expect(try Tokens.decode(try await Tokens.fetch(client)).header["kid"]?.stringValue == oldKid)
            test.clock.advance(seconds: 2)
            let after = try await Tokens.fetch(client)
            #expect(try Tokens.decode(after).header["kid"]?.stringValue == newKid, "signs once published for the lead")
            for token in [before, meanwhile, after] {
                #expect(try await client.get(Paths.list, token: token).status == .ok)
            }
            // After every token of the old key has expired, the key leaves the JWKS.
            test.clock.advance(seconds: test.deployer.configuration.retireWindow.seconds + 61)
            #expect(try await jwksKids(client) == [newKid])
        }
    }

    @Test func anImmediateRotationSignsAtOnce() async throws {
        let test = TestDeployer()
        try await test.test { client in
            _ = try await Tokens.fetch(client)
            let newKid = try await test.deployer.keys.rotate(immediately: true)
            #expect(try Tokens.decode(try await Tokens.fetch(client)).header["kid"]?.stringValue == newKid)
        }
    }

    /// The successor is published one lead before the active key reaches its maximum age, and signs from then on.
    @Test func theActiveKeyRotatesWhenOlderThanTheMaximumAge() async throws {
        let test = TestDeployer(configure: { $0.signingKeys.maxAge = .seconds(3600 * 24) })
        let lead = test.deployer.configuration.signingKeys.publishLead.seconds
        try await test.test { client in
            let first = try Tokens.decode(try await Tokens.fetch(client)).header["kid"]
            test.clock.advance(seconds: 3600 * 24 - lead - 1)
            #expect(try Tokens.decode(try await Tokens.fetch(client)).header["kid"] == first)
            #expect(try await jwksKids(client).count == 1)
            test.clock.advance(seconds: 2)
            #expect(try Tokens.decode(try await Tokens.fetch(client)).header["kid"] == first, "successor published only")
            #expect(try await jwksKids(client).count == 2)
            test.clock.advance(seconds: lead)
            let second = try Tokens.decode(try await Tokens.fetch(client)).header["kid"]
            #expect(first != second)
            #expect(try await jwksKids(client).count == 2)
        }
    }

    /// A token signed by a key another replica created (not yet in this replica's cache) is accepted: the unknown
    /// `kid` re-reads the store.
    @Test func aKeyAddedByAnotherReplicaIsPickedUp() async throws {
        let test = TestDeployer(configure: { $0.signingKeys.cacheTTL = .seconds(3600) })
        try await test.test { client in
            _ = try await Tokens.fetch(client)
            let replica = Deployer(
                configuration: test.deployer.configuration, stores: test.deployer.stores,
                jwksFetcher: CountingFetcher(document: "{}"), now: test.clock.function, logger: TestDeployer.logger)
            try await replica.keys.rotate(immediately: true)  // signs at once: this replica has never seen it
            let app = try buildHTTPApplication(deployer: replica, logger: TestDeployer.logger)
            let token = try await app.test(.router) { replicaClient in try await Tokens.fetch(replicaClient) }
            #expect(try await client.get(Paths.list, token: token).status == .ok)
        }
    }
}
