import APKAuth
import APKDeployer
import APKModel
import APKRuntime
import APKStore
import APKSupport
import Foundation
import Synchronization
import Testing

/// Issue 14 item 4: signing keys sealed at rest with a KEK (AES-256-GCM), KEK rotation at start-up, refusal to start
/// on keys that cannot be decrypted, and the KEK settings.
@Suite struct KeyEncryptionTests {
    static let pem = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"

    @Test func sealedValuesOpenOnlyWithTheirKEKAndKid() throws {
        let kek = KeyEncryptionKey.random()
        let sealer = SigningKeySealer(current: kek)
        let sealed = try sealer.seal(Self.pem, kid: "k1")
        #expect(SigningKeySealer.isSealed(sealed) && SigningKeySealer.kekID(of: sealed) == kek.id)
        #expect(!sealed.contains("BEGIN") && !sealed.contains("MIIB"))
        #expect(try sealer.seal(Self.pem, kid: "k1") != sealed, "a fresh nonce each time")
        let opened = try sealer.open(sealed, kid: "k1")
        #expect(opened.pem == Self.pem && !opened.needsResealing)

        #expect(throws: SigningKeySealer.Failure.self) { try SigningKeySealer(current: .random()).open(sealed, kid: "k1") }
        #expect(throws: SigningKeySealer.Failure.self) { try sealer.open(sealed, kid: "k2") }  // copied to another row
        #expect(throws: SigningKeySealer.Failure.self) { try SigningKeySealer.plaintext.open(sealed, kid: "k1") }
        // Same KEK id, other key bytes: authentication fails.
        let forged = sealed.replacingOccurrences(of: kek.id, with: KeyEncryptionKey.random().id)
        #expect(throws: SigningKeySealer.Failure.self) { try sealer.open(forged, kid: "k1") }
        var tampered = Array(sealed.utf8)
        tampered[tampered.count - 3] = tampered[tampered.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: SigningKeySealer.Failure.self) { try sealer.open(String(decoding: tampered, as: UTF8.self), kid: "k1") }
        #expect(throws: SigningKeySealer.Failure.self) { try sealer.open("garbage", kid: "k1") }
    }

    @Test func previousKEKsAndPlaintextOpenButAskForResealing() throws {
        let old = KeyEncryptionKey.random()
        let new = KeyEncryptionKey.random()
        let sealedByOld = try SigningKeySealer(current: old).seal(Self.pem, kid: "k1")
        let rotating = SigningKeySealer(current: new, previous: [old])
        #expect(try rotating.open(sealedByOld, kid: "k1").needsResealing)
        #expect(try rotating.open(Self.pem, kid: "k1").needsResealing)
        #expect(try !SigningKeySealer.plaintext.open(Self.pem, kid: "k1").needsResealing)
        #expect(try SigningKeySealer.plaintext.seal(Self.pem, kid: "k1") == Self.pem)
    }

    @Test func keyDescriptionsNeverShowTheKey() throws {
        let kek = KeyEncryptionKey.random()
        #expect(!"\(kek)".contains(kek.base64) && "\(kek)".contains(kek.id))
        #expect(try KeyEncryptionKey(base64: kek.base64).id == kek.id)
        #expect(kek.id.count == 16)
        let short = Data(repeating: 7, count: 16).base64EncodedString()
        #expect(throws: KeyEncryptionKey.Invalid.self) { try KeyEncryptionKey(base64: short) }
        do {
            _ = try KeyEncryptionKey(base64: short)
        } catch {
            #expect(!"\(error)".contains(short))
        }
    }

    // MARK: the deployer over one store

    static func deployer(store: InMemoryControlPlaneStore, current: KeyEncryptionKey?, previous: [KeyEncryptionKey] = [])
        -> Deployer
    {
        var configuration = DeployerConfiguration()
        configuration.storeBackend = .memory
        configuration.clientSecrets.iterations = TestDeployer.iterations
        configuration.keyEncryption.current = current
        configuration.keyEncryption.previous = previous
        return Deployer(
            configuration: configuration,
            stores: DeployerStores(resources: InMemoryResourceStore(), controlPlane: store),
            jwksFetcher: CountingFetcher(document: #"{"keys":[]}"#), logger: TestDeployer.logger)
    }

    /// Every stored private key is sealed by `kek` and none is PEM.
    static func expectSealed(_ store: InMemoryControlPlaneStore, by kek: KeyEncryptionKey) async throws {
        let keys = await store.allSigningKeys()
        #expect(!keys.isEmpty)
        for key in keys {
            #expect(SigningKeySealer.kekID(of: key.privateKeyPEM) == kek.id, "\(key.kid)")
            #expect(!key.privateKeyPEM.contains("BEGIN"))
            #expect(!key.privateKeyPEM.contains("-----"), "no PEM armour: not parseable as PEM")
        }
    }

    @Test func newKeysAreStoredSealed() async throws {
        let store = InMemoryControlPlaneStore()
        let kek = KeyEncryptionKey.random()
        let deployer = Self.deployer(store: store, current: kek)
        try await deployer.bootstrap(logger: TestDeployer.logger)
        try await deployer.keys.rotate()
        #expect(await store.allSigningKeys().count == 2)
        try await Self.expectSealed(store, by: kek)
        _ = try await deployer.keys.activeSigner()  // opens the sealed key
    }

    @Test func plaintextRowsOfOlderDatabasesAreSealedAtStartUp() async throws {
        let store = InMemoryControlPlaneStore()
        let legacy = Self.deployer(store: store, current: nil)  // as an older release stored keys
        try await legacy.bootstrap(logger: TestDeployer.logger)
        let plain = try #require(await store.allSigningKeys().first)
        #expect(plain.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let token = try await legacy.keys.activeSigner().sign(JSONObject([("sub", .string("x"))]))

        let kek = KeyEncryptionKey.random()
        let upgraded = Self.deployer(store: store, current: kek)
        try await upgraded.bootstrap(logger: TestDeployer.logger)
        try await Self.expectSealed(store, by: kek)
        #expect(try await upgraded.keys.activeSigner().keyID == plain.kid, "the same key, now sealed")
        #expect(try await upgraded.keys.activeSigner().sign(JSONObject([("sub", .string("x"))])).split(separator: ".").first
            == token.split(separator: ".").first)
    }

    @Test func kekRotationReSealsWithTheCurrentKEK() async throws {
        let store = InMemoryControlPlaneStore()
        let old = KeyEncryptionKey.random()
        let first = Self.deployer(store: store, current: old)
        try await first.bootstrap(logger: TestDeployer.logger)
        try await first.keys.rotate()
        let kids = Set(await store.allSigningKeys().map(\.kid))

        let new = KeyEncryptionKey.random()
        let rotated = Self.deployer(store: store, current: new, previous: [old])
        try await rotated.bootstrap(logger: TestDeployer.logger)
        try await Self.expectSealed(store, by: new)
        #expect(Set(await store.allSigningKeys().map(\.kid)) == kids, "the same keys")
        _ = try await rotated.keys.activeSigner()

        // The old KEK alone no longer opens them: rotation is complete.
        await #expect(throws: SigningKeySealer.Failure.self) {
            try await Self.deployer(store: store, current: old).bootstrap(logger: TestDeployer.logger)
        }
    }

    @Test func aWrongOrMissingKEKRefusesToStart() async throws {
        let store = InMemoryControlPlaneStore()
        let kek = KeyEncryptionKey.random()
        try await Self.deployer(store: store, current: kek).bootstrap(logger: TestDeployer.logger)
        let before = await store.allSigningKeys()

        await #expect(throws: SigningKeySealer.Failure.self) {
            try await Self.deployer(store: store, current: .random()).bootstrap(logger: TestDeployer.logger)
        }
        await #expect(throws: SigningKeySealer.Failure.self) {
            try await Self.deployer(store: store, current: nil).bootstrap(logger: TestDeployer.logger)
        }
        // The bootstrap service gives up at once (no retry loop) and stops the process.
        let stopped = Mutex<[String]>([])
        let service = ControlPlaneBootstrapService(
            deployer: Self.deployer(store: store, current: .random()), logger: TestDeployer.logger,
            onFatal: { failure in stopped.withLock { $0.append(failure.kid) } })
        await #expect(throws: SigningKeySealer.Failure.self) { try await service.run() }
        #expect(stopped.withLock { $0 } == before.map(\.kid).prefix(1).map { $0 }, "the process is ended once")
        #expect(await store.allSigningKeys() == before, "nothing rewritten")
    }

    // MARK: configuration

    @Test func aKEKIsRequiredUnlessExplicitlyDevelopment() throws {
        #expect(throws: InvalidConfiguration.self) { try DeployerConfiguration(reader: ConfigReader(environment: [:])) }
        let plaintext = try DeployerConfiguration(reader: ConfigReader(environment: ["SIGNING_KEY_ALLOW_PLAINTEXT": "true"]))
        #expect(plaintext.keyEncryption.current == nil && plaintext.keyEncryption.allowPlaintext)
        let memory = try DeployerConfiguration(reader: ConfigReader(environment: ["STORE_BACKEND": "memory"]))
        #expect(memory.keyEncryption.current == nil)
    }

    @Test func kekSettings() throws {
        let kek = KeyEncryptionKey.random()
        let previous = KeyEncryptionKey.random()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apk-kek-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("kek")
        try Data((kek.base64 + "\n").utf8).write(to: file)

        let fromFile = try DeployerConfiguration(reader: ConfigReader(environment: [
            "SIGNING_KEY_KEK_FILE": file.path, "SIGNING_KEY_KEK_PREVIOUS": previous.base64,
        ]))
        #expect(fromFile.keyEncryption.current?.id == kek.id)
        #expect(fromFile.keyEncryption.previous.map(\.id) == [previous.id])

        let bad: [[String: String]] = [
            ["SIGNING_KEY_KEK": kek.base64, "SIGNING_KEY_KEK_FILE": file.path],  // both
            ["SIGNING_KEY_KEK": String(kek.base64.dropLast(8))],  // not 32 bytes
            ["SIGNING_KEY_KEK_FILE": directory.appendingPathComponent("missing").path],
            ["SIGNING_KEY_ALLOW_PLAINTEXT": "true", "SIGNING_KEY_KEK_PREVIOUS": previous.base64],  // previous without current
            ["SIGNING_KEY_KEK": kek.base64, "CLIENT_SECRET_PBKDF2_ITERATIONS": "100000"],  // below the floor
        ]
        for environment in bad {
            do {
                _ = try DeployerConfiguration(reader: ConfigReader(environment: environment))
                Issue.record("accepted \(environment.keys.sorted())")
            } catch {
                for value in [kek.base64, previous.base64, String(kek.base64.dropLast(8))] {
                    #expect(!"\(error)".contains(value), "an error never quotes a key")
                }
            }
        }
        let tuned = try DeployerConfiguration(reader: ConfigReader(environment: [
            "SIGNING_KEY_KEK": kek.base64, "CLIENT_SECRET_PBKDF2_ITERATIONS": "1200000", "CLIENT_SECRET_CACHE_TTL": "30s",
            "CLIENT_SECRET_KDF_CONCURRENCY": "2",
        ]))
        #expect(tuned.clientSecrets.iterations == 1_200_000)
        #expect(tuned.clientSecrets.cacheTTL == .seconds(30))
        #expect(tuned.clientSecrets.concurrency == 2)
    }
}
