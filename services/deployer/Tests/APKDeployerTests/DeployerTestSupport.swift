import APKDeployer
import APKModel
import APKRuntime
import APKStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import APKAuth

/// A manual clock: tests move time instead of sleeping.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_750_000_000)) { current = Mutex(start) }

    var now: Date { current.withLock { $0 } }

    func advance(seconds: Double) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }

    var function: @Sendable () -> Date { { [self] in now } }
}

/// Stores that can be switched to fail with `.unavailable`, as when the database is down.
final class Outage: Sendable {
    private let down = Mutex(false)
    var isDown: Bool { down.withLock { $0 } }
    func set(_ value: Bool) { down.withLock { $0 = value } }

    func check() throws(StoreError) {
        if isDown { throw .unavailable("connection refused (test outage)") }
    }
}

/// A ``ResourceStore`` that delegates to an in-memory one unless the ``Outage`` is on.
struct FlakyResourceStore: ResourceStore {
    let inner: InMemoryResourceStore
    let outage: Outage

    func apply(_ bundle: CRBundle, namespace: String) async throws(StoreError) -> ApplyResult {
        try outage.check()
        return try await inner.apply(bundle, namespace: namespace)
    }
    func deleteAPI(id: String, namespace: String, organization: String?) async throws(StoreError) -> Bool {
        try outage.check()
        return await inner.deleteAPI(id: id, namespace: namespace, organization: organization)
    }
    func applyResource(_ resource: K8sResource, namespace: String) async throws(StoreError) -> Int64 {
        try outage.check()
        return try await inner.applyResource(resource, namespace: namespace)
    }
    func deleteResource(_ key: ResourceKey) async throws(StoreError) -> Bool {
        try outage.check()
        return try await inner.deleteResource(key)
    }
    func get(_ key: ResourceKey) async throws(StoreError) -> StoredResource? {
        try outage.check()
        return await inner.get(key)
    }
    func list(kind: String?, namespace: String?, owner: String?) async throws(StoreError) -> [StoredResource] {
        try outage.check()
        return await inner.list(kind: kind, namespace: namespace, owner: owner)
    }
    func updateStatus(_ key: ResourceKey, status: JSONValue) async throws(StoreError) -> Bool {
        try outage.check()
        return await inner.updateStatus(key, status: status)
    }
    func events(after cursor: Int64, limit: Int) async throws(StoreError) -> [ResourceEvent] {
        try outage.check()
        return await inner.events(after: cursor, limit: limit)
    }
    func waitForEvents(after cursor: Int64, timeout: Duration) async throws(StoreError) {
        try outage.check()
        await inner.waitForEvents(after: cursor, timeout: timeout)
    }
    func latestCursor() async throws(StoreError) -> Int64 {
        try outage.check()
        return await inner.latestCursor()
    }
}

/// A ``ControlPlaneStore`` that delegates to an in-memory one unless the ``Outage`` is on.
struct FlakyControlPlaneStore: ControlPlaneStore {
    let inner: InMemoryControlPlaneStore
    let outage: Outage

    func client(id: String) async throws(StoreError) -> OAuthClient? {
        try outage.check()
        return await inner.client(id: id)
    }
    func upsertClient(_ client: OAuthClient) async throws(StoreError) {
        try outage.check()
        await inner.upsertClient(client)
    }
    func clients(organization: String) async throws(StoreError) -> [OAuthClient] {
        try outage.check()
        return await inner.clients(organization: organization)
    }
    func createClient(_ client: OAuthClient) async throws(StoreError) -> Bool {
        try outage.check()
        return await inner.createClient(client)
    }
    func updateClient(_ client: OAuthClient) async throws(StoreError) -> OAuthClient? {
        try outage.check()
        return await inner.updateClient(client)
    }
    func replaceClientSecret(id: String, organization: String, secretHash: String) async throws(StoreError) -> OAuthClient? {
        try outage.check()
        return await inner.replaceClientSecret(id: id, organization: organization, secretHash: secretHash)
    }
    func upgradeClientSecretHash(id: String, from current: String, to replacement: String) async throws(StoreError) -> Bool {
        try outage.check()
        return await inner.upgradeClientSecretHash(id: id, from: current, to: replacement)
    }
    func deleteClient(id: String, organization: String) async throws(StoreError) -> Bool {
        try outage.check()
        return await inner.deleteClient(id: id, organization: organization)
    }
    func signingKeys(now: Date) async throws(StoreError) -> [SigningKey] {
        try outage.check()
        return await inner.signingKeys(now: now)
    }
    func allSigningKeys() async throws(StoreError) -> [SigningKey] {
        try outage.check()
        return await inner.allSigningKeys()
    }
    func replaceSigningKeyPrivateKey(kid: String, from current: String, to replacement: String) async throws(StoreError) -> Bool {
        try outage.check()
        return await inner.replaceSigningKeyPrivateKey(kid: kid, from: current, to: replacement)
    }
    func addSigningKey(_ key: SigningKey, retiringPreviousAfter: Date) async throws(StoreError) {
        try outage.check()
        await inner.addSigningKey(key, retiringPreviousAfter: retiringPreviousAfter)
    }
    func recordInternalKey(_ key: InternalKeyRecord) async throws(StoreError) {
        try outage.check()
        await inner.recordInternalKey(key)
    }
    func revokeInternalKey(jti: String) async throws(StoreError) -> Bool {
        try outage.check()
        return await inner.revokeInternalKey(jti: jti)
    }
    func internalKey(jti: String) async throws(StoreError) -> InternalKeyRecord? {
        try outage.check()
        return await inner.internalKey(jti: jti)
    }
    func recordDeploy(_ entry: DeployHistoryEntry) async throws(StoreError) {
        try outage.check()
        await inner.recordDeploy(entry)
    }
    func deployHistory(apiID: String?, limit: Int) async throws(StoreError) -> [DeployHistoryEntry] {
        try outage.check()
        return await inner.deployHistory(apiID: apiID, limit: limit)
    }
}

/// A fetcher that serves a fixed JWKS document and counts calls.
final class CountingFetcher: JWKSFetcher {
    private let state: Mutex<(document: [UInt8], calls: Int)>

    init(document: String) { state = Mutex((Array(document.utf8), 0)) }

    var calls: Int { state.withLock { $0.calls } }
    func set(document: String) { state.withLock { $0.document = Array(document.utf8) } }

    func fetchJWKS(from url: String, trustedCA: String?) async throws -> [UInt8] {
        state.withLock {
            $0.calls += 1
            return $0.document
        }
    }
}

/// One deployer over in-memory stores, with a manual clock and a switchable outage.
struct TestDeployer {
    static let logger: Logger = {
        var logger = Logger(label: "apk-deployer-test")
        logger.logLevel = .critical
        return logger
    }()

    /// A second organization's client (allowed scopes as the dev client).
    static let acmeClientID = "acme-client"
    static let acmeSecret = "acme-secret-for-tests"
    /// PBKDF2 iterations of the unit tests: few, so that they stay fast (production never goes below 600,000).
    static let iterations = 1_000
    /// The KEK of the unit tests' signing keys (one per test run).
    static let kek = KeyEncryptionKey.random()
    /// A client that may only use `authorization_code`.
    static let codeOnlyClientID = "code-only-client"

    let clock = TestClock()
    let outage = Outage()
    let resources = InMemoryResourceStore()
    let controlPlane = InMemoryControlPlaneStore()
    let deployer: Deployer

    init(
        configure: (inout DeployerConfiguration) -> Void = { _ in },
        fetcher: any JWKSFetcher = CountingFetcher(document: #"{"keys":[]}"#)
    ) {
        var configuration = DeployerConfiguration()
        configuration.server.port = 0
        configuration.seedDevClient = true
        configuration.storeBackend = .memory
        configuration.clientSecrets.iterations = Self.iterations
        configuration.keyEncryption.current = Self.kek
        configure(&configuration)
        let stores = DeployerStores(
            resources: FlakyResourceStore(inner: resources, outage: outage),
            controlPlane: FlakyControlPlaneStore(inner: controlPlane, outage: outage))
        deployer = Deployer(
            configuration: configuration, stores: stores, jwksFetcher: fetcher, now: clock.function, logger: Self.logger)
    }

    /// Seeds the dev client, the `acme` client and a code-only client, and creates the first signing key.
    func prepare() async throws {
        try await deployer.bootstrap(logger: Self.logger)
        await controlPlane.upsertClient(
            OAuthClient(
                id: Self.acmeClientID, secretHash: ClientSecret.hash(Self.acmeSecret, iterations: Self.iterations), name: "acme", organization: "acme",
                allowedScopes: ["apk:api_create", "apk:api_view"], grantTypes: ["client_credentials"]))
        await controlPlane.upsertClient(
            OAuthClient(
                id: Self.codeOnlyClientID, secretHash: ClientSecret.hash(Self.acmeSecret, iterations: Self.iterations), name: "code", organization: "acme",
                allowedScopes: ["default"], grantTypes: ["authorization_code"]))
    }

    /// Runs `body` against the in-process router of the application production builds.
    func test<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await prepare()
        let app = try buildHTTPApplication(deployer: deployer, logger: Self.logger)
        return try await app.test(.router, body)
    }
}

/// Token helpers over the public endpoints.
enum Tokens {
    static func basic(_ id: String, _ secret: String) -> String {
        "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()
    }

    /// Requests a token with the client-credentials grant; returns the `access_token`.
    static func fetch(
        _ client: any TestClientProtocol, id: String = DevelopmentClient.clientID,
        secret: String = DevelopmentClient.clientSecret, scope: String? = "apk:api_create apk:api_view"
    ) async throws -> String {
        let response = try await requestToken(client, authorization: basic(id, secret), scope: scope)
        guard response.status == .ok, let token = try JSON.parse(response)["access_token"]?.stringValue else {
            throw TestFailure("token request failed: \(response.status) \(String(buffer: response.body))")
        }
        return token
    }

    static func requestToken(
        _ client: any TestClientProtocol, authorization: String?, grantType: String? = "client_credentials",
        scope: String? = nil
    ) async throws -> TestResponse {
        var fields: [String] = []
        if let grantType { fields.append("grant_type=\(grantType)") }
        if let scope { fields.append("scope=\(scope.replacingOccurrences(of: " ", with: "+"))") }
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let authorization { headers[.authorization] = authorization }
        return try await client.execute(
            uri: "/oauth2/token", method: .post, headers: headers, body: ByteBuffer(string: fields.joined(separator: "&")))
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    /// The decoded header and claims of a compact JWT (no verification).
    static func decode(_ token: String) throws -> (header: JSONObject, claims: JSONObject) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = decodeSegment(parts[0]), let claims = decodeSegment(parts[1]) else {
            throw TestFailure("not a JWT")
        }
        return (header, claims)
    }

    static func decodeSegment(_ segment: Substring) -> JSONObject? {
        var text = segment.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        text += String(repeating: "=", count: (4 - text.count % 4) % 4)
        guard let data = Data(base64Encoded: text) else { return nil }
        return (try? JSONParser.parse(Array(data)))?.objectValue
    }

    static func encodeSegment(_ value: JSONValue) -> String {
        Data(DocumentWriter.json(value).utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

enum JSON {
    static func parse(_ response: TestResponse) throws -> JSONValue {
        try JSONParser.parse(Array(response.body.readableBytesView))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
