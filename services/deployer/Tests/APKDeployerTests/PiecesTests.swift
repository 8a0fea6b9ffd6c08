import APKDeployer
import APKRuntime
import Foundation
import Testing
import APKSupport

/// The small pure pieces: form parsing, configuration (secret hashing and key sealing: `SecretsAtRestTests`).
@Suite struct PiecesTests {
    @Test func formURLEncodedDecodesPlusAndPercent() throws {
        let fields = try FormURLEncoded.parse(Array("grant_type=client_credentials&scope=a+b%3Ac&empty=&flag".utf8))
        #expect(fields.map(\.name) == ["grant_type", "scope", "empty", "flag"])
        #expect(fields.map(\.value) == ["client_credentials", "a b:c", "", ""])
    }

    @Test(arguments: ["a=%", "a=%4", "a=%zz", "a=%FF"])
    func formURLEncodedRejectsBadEncoding(body: String) {
        #expect(throws: FormURLEncoded.Failure.self) { try FormURLEncoded.parse(Array(body.utf8)) }
    }

    @Test func formURLEncodedIsBounded() {
        let body = (0..<40).map { "f\($0)=1" }.joined(separator: "&")
        #expect(throws: FormURLEncoded.Failure.self) { try FormURLEncoded.parse(Array(body.utf8), maxFields: 32) }
    }

    @Test func configurationDefaults() throws {
        let kek = KeyEncryptionKey.random()
        let configuration = try DeployerConfiguration(reader: ConfigReader(environment: ["SIGNING_KEY_KEK": kek.base64]))
        #expect(configuration.keyEncryption.current?.id == kek.id)
        #expect(configuration.clientSecrets.iterations == 600_000)
        #expect(configuration.server.host == "127.0.0.1")
        #expect(configuration.server.port == 9444)
        #expect(configuration.token.issuer == "https://idp.am.wso2.com/token")
        #expect(configuration.token.tokenTTL == .seconds(3600))
        #expect(configuration.internalKeyTTL == .seconds(86_400))
        #expect(configuration.signingKeys.maxAge == .seconds(30 * 86_400))
        #expect(!configuration.seedDevClient)
        #expect(configuration.auth.externalIssuers.isEmpty)
        #expect(configuration.storeBackend == .postgres)
        #expect(configuration.retireWindow == .seconds(86_400 + 30))
    }

    @Test func configurationFromEnvironment() throws {
        let configuration = try DeployerConfiguration(
            reader: ConfigReader(environment: [
                "HTTP_PORT": "19444", "SEED_DEV_CLIENT": "true", "INTERNAL_KEY_TTL": "2h", "TOKEN_TTL": "10m",
                "SIGNING_KEY_MAX_AGE": "48h", "STORE_BACKEND": "memory", "DEPLOY_NAMESPACE": "apk",
                "AUTH_ISSUERS": "https://a.example|https://a.example/jwks, https://b.example|http://127.0.0.1:8080/keys",
            ]))
        #expect(configuration.server.port == 19444)
        #expect(configuration.seedDevClient)
        #expect(configuration.internalKeyTTL == .seconds(7200))
        #expect(configuration.token.tokenTTL == .seconds(600))
        #expect(configuration.signingKeys.maxAge == .seconds(48 * 3600))
        #expect(configuration.storeBackend == .memory)
        #expect(configuration.namespace == "apk")
        #expect(
            configuration.auth.externalIssuers == [
                .init(issuer: "https://a.example", jwksURL: "https://a.example/jwks"),
                .init(issuer: "https://b.example", jwksURL: "http://127.0.0.1:8080/keys"),
            ])
    }

    @Test(arguments: [
        ["AUTH_ISSUERS": "https://a.example"],
        ["AUTH_ISSUERS": "https://a.example|ftp://a.example/jwks"],
        ["AUTH_ISSUERS": "https://a.example|https://x/1,https://a.example|https://x/2"],
        ["AUTH_ISSUERS": "https://idp.am.wso2.com/token|https://x/jwks"],
        ["STORE_BACKEND": "mysql"],
        ["TOKEN_TTL": "forever"],
    ])
    func invalidConfigurationIsRefused(environment: [String: String]) {
        #expect(throws: (any Error).self) {
            try DeployerConfiguration(reader: ConfigReader(environment: environment))
        }
    }
}
