import APKDeployer
import APKStore
import APKSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 14 item 4: client secrets hashed with PBKDF2 (upgraded from the legacy form on use), the token endpoint's
/// verification cache and KDF bound, signing keys sealed with a KEK (rotation, refusal), and the configuration.
@Suite struct SecretsAtRestTests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    // MARK: PBKDF2

    /// RFC 7914 §11 and the RFC 6070-style PBKDF2-HMAC-SHA256 vectors.
    @Test(arguments: [
        ("password", "salt", 1, 32, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"),
        ("password", "salt", 2, 32, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"),
        ("password", "salt", 4096, 32, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"),
        ("passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 40,
         "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9"),
        ("passwd", "salt", 1, 64,
         "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"),
        ("Password", "NaCl", 80000, 64,
         "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"),
    ])
    func pbkdf2Vectors(password: String, salt: String, iterations: Int, length: Int, expected: String) throws {
        let derived = try #require(
            ClientSecret.pbkdf2(password: Array(password.utf8), salt: Array(salt.utf8), iterations: iterations, length: length))
        #expect(Self.hex(derived) == expected)
    }

    @Test func hashFormatAndVerification() throws {
        let hash = ClientSecret.hash("s3cret", iterations: 1_000)
        let fields = hash.split(separator: "$", omittingEmptySubsequences: false)
        #expect(fields.count == 4 && fields[0] == "pbkdf2-sha256" && fields[1] == "1000")
        #expect(Data(base64Encoded: String(fields[2]))?.count == 16)
        #expect(Data(base64Encoded: String(fields[3]))?.count == 32)
        #expect(!hash.contains("s3cret"))
        #expect(ClientSecret.isPBKDF2(hash))
        #expect(ClientSecret.verify("s3cret", against: hash, wantedIterations: 1_000) == .match(needsUpgrade: false))
        #expect(ClientSecret.verify("s3cret", against: hash, wantedIterations: 2_000) == .match(needsUpgrade: true))
        #expect(ClientSecret.verify("s3cret!", against: hash, wantedIterations: 1_000) == .mismatch)
        #expect(ClientSecret.verify("s3cre", against: hash, wantedIterations: 1_000) == .mismatch)
        #expect(ClientSecret.hash("s3cret", iterations: 1_000) != hash)  // salted
        // A known salt gives the RFC value: the stored hash is PBKDF2-HMAC-SHA256(secret, salt, iterations).
        let known = ClientSecret.hash("password", iterations: 4096, salt: Array("salt".utf8))
        let expected = try #require(ClientSecret.pbkdf2(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 4096))
        #expect(known == "pbkdf2-sha256$4096$\(Data("salt".utf8).base64EncodedString())$\(Data(expected).base64EncodedString())")
    }

    @Test func malformedAndHostileStoredValuesNeverMatch() {
        let salt = Data(repeating: 1, count: 16).base64EncodedString()
        let digest = Data(repeating: 2, count: 32).base64EncodedString()
        for stored in [
            "", "s3cret", "md5$00$00", "sha256$zz$00", "sha256$00$abcd", "pbkdf2-sha256$0$\(salt)$\(digest)",
            "pbkdf2-sha256$-5$\(salt)$\(digest)", "pbkdf2-sha256$010$\(salt)$\(digest)",
            "pbkdf2-sha256$100000000$\(salt)$\(digest)",  // above the maximum: never derived
            "pbkdf2-sha256$1000$$\(digest)", "pbkdf2-sha256$1000$\(salt)$AAAA", "pbkdf2-sha1$1000$\(salt)$\(digest)",
        ] {
            #expect(ClientSecret.verify("s3cret", against: stored, wantedIterations: 1_000) == .mismatch, "\(stored)")
        }
        #expect(ClientSecret.pbkdf2(password: [], salt: [1], iterations: 1) == nil)
    }

    @Test func legacyHashesVerifyAndAskForAnUpgrade() {
        let legacy = ClientSecret.legacyHash("s3cret")
        #expect(legacy.hasPrefix("sha256$") && !ClientSecret.isPBKDF2(legacy))
        #expect(ClientSecret.verify("s3cret", against: legacy, wantedIterations: 1_000) == .match(needsUpgrade: true))
        #expect(ClientSecret.verify("other", against: legacy, wantedIterations: 1_000) == .mismatch)
    }

    // MARK: verifier: cache and bound

    static func verifier(clock: TestClock = TestClock(), ttl: Duration = .seconds(60)) -> ClientSecretVerifier {
        var settings = ClientSecretVerifier.Settings()
        settings.iterations = 1_000
        settings.cacheTTL = ttl
        settings.cacheSize = 2
        return ClientSecretVerifier(settings: settings, now: clock.function)
    }

    @Test func correctCredentialsAreCachedUntilTheTTLOrTheHashChanges() async throws {
        let clock = TestClock()
        let verifier = Self.verifier(clock: clock)
        let stored = try await verifier.hash("s3cret")
        #expect(verifier.derivationCount == 1)
        #expect(try await verifier.verify("s3cret", clientID: "c", storedHash: stored) == .match(upgradedHash: nil))
        #expect(verifier.derivationCount == 2)
        #expect(try await verifier.verify("s3cret", clientID: "c", storedHash: stored) == .match(upgradedHash: nil))
        #expect(verifier.derivationCount == 2, "the second correct request is answered from the cache")
        // Wrong secrets are never cached; another client id or another stored hash is another entry.
        #expect(try await verifier.verify("wrong", clientID: "c", storedHash: stored) == .mismatch)
        #expect(try await verifier.verify("wrong", clientID: "c", storedHash: stored) == .mismatch)
        #expect(verifier.derivationCount == 4)
        #expect(try await verifier.verify("s3cret", clientID: "other", storedHash: stored) == .match(upgradedHash: nil))
        #expect(verifier.derivationCount == 5)
        let regenerated = try await verifier.hash("s3cret")
        #expect(try await verifier.verify("s3cret", clientID: "c", storedHash: regenerated) == .match(upgradedHash: nil))
        #expect(verifier.derivationCount == 7)
        #expect(verifier.cachedCount <= 2, "bounded")
        clock.advance(seconds: 61)
        #expect(try await verifier.verify("s3cret", clientID: "c", storedHash: regenerated) == .match(upgradedHash: nil))
        #expect(verifier.derivationCount == 8, "expired entries are derived again")
    }

    @Test func upgradesAreOfferedNotCachedUntilRemembered() async throws {
        let verifier = Self.verifier()
        let legacy = ClientSecret.legacyHash("s3cret")
        guard case .match(let upgraded?) = try await verifier.verify("s3cret", clientID: "c", storedHash: legacy) else {
            Issue.record("no upgrade offered")
            return
        }
        #expect(ClientSecret.iterations(of: upgraded) == 1_000)
        #expect(ClientSecret.verify("s3cret", against: upgraded, wantedIterations: 1_000) == .match(needsUpgrade: false))
        verifier.remember(secret: "s3cret", clientID: "c", storedHash: upgraded)
        let before = verifier.derivationCount
        #expect(try await verifier.verify("s3cret", clientID: "c", storedHash: upgraded) == .match(upgradedHash: nil))
        #expect(verifier.derivationCount == before)
    }

    @Test func theKDFBoundQueuesThenRefuses() async throws {
        let permits = KDFPermits(permits: 1, maxWaiting: 1)
        #expect(await permits.acquire())
        async let waiter = permits.acquire()
        while permits.snapshot.waiting == 0 { await Task.yield() }  // the second caller is queued
        #expect(await permits.acquire() == false, "the queue is full: refused at once")
        permits.release()  // hands the permit to the waiter
        #expect(await waiter)
        #expect(permits.snapshot.available == 0)
        permits.release()
        #expect(permits.snapshot == (available: 1, waiting: 0))
    }

    // MARK: token endpoint upgrade

    @Test(arguments: ["legacy", "weaker"])
    func aSuccessfulTokenRequestUpgradesTheStoredHash(kind: String) async throws {
        let test = TestDeployer()
        try await test.test { client in
            let old = kind == "legacy"
                ? ClientSecret.legacyHash(TestDeployer.acmeSecret) : ClientSecret.hash(TestDeployer.acmeSecret, iterations: 500)
            var acme = try #require(await test.controlPlane.client(id: TestDeployer.acmeClientID))
            acme.secretHash = old
            await test.controlPlane.upsertClient(acme)

            let refused = try await Tokens.requestToken(client, authorization: Tokens.basic(TestDeployer.acmeClientID, "wrong"))
            #expect(refused.status == .unauthorized)
            #expect(await test.controlPlane.client(id: TestDeployer.acmeClientID)?.secretHash == old, "no upgrade on a failure")

            _ = try await Tokens.fetch(client, id: TestDeployer.acmeClientID, secret: TestDeployer.acmeSecret, scope: nil)
            let upgraded = try #require(await test.controlPlane.client(id: TestDeployer.acmeClientID)?.secretHash)
            #expect(ClientSecret.iterations(of: upgraded) == TestDeployer.iterations, "stored as PBKDF2 with the configured count")
            #expect(ClientSecret.verify(TestDeployer.acmeSecret, against: upgraded, wantedIterations: TestDeployer.iterations)
                == .match(needsUpgrade: false))
            _ = try await Tokens.fetch(client, id: TestDeployer.acmeClientID, secret: TestDeployer.acmeSecret, scope: nil)
            #expect(await test.controlPlane.client(id: TestDeployer.acmeClientID)?.secretHash == upgraded)
        }
    }

    @Test func theSeededDevelopmentClientIsPBKDF2() async throws {
        let test = TestDeployer()
        try await test.prepare()
        let stored = try #require(await test.controlPlane.client(id: DevelopmentClient.clientID)?.secretHash)
        #expect(ClientSecret.iterations(of: stored) == TestDeployer.iterations)
    }

    @Test func anUpgradeNeverOverwritesASecretRegeneratedMeanwhile() async throws {
        let store = InMemoryControlPlaneStore()
        await store.upsertClient(OAuthClient(
            id: "c", secretHash: "sha256$00$00", name: "c", organization: "o", allowedScopes: [], grantTypes: []))
        _ = await store.replaceClientSecret(id: "c", organization: "o", secretHash: "new")
        #expect(await store.upgradeClientSecretHash(id: "c", from: "sha256$00$00", to: "upgraded") == false)
        #expect(await store.client(id: "c")?.secretHash == "new")
    }
}
