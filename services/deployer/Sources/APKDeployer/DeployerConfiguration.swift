import APKModel
package import APKRuntime
package import Logging
package import APKConversion
import APKSupport

/// Everything the deployer reads at start-up. Defaults serve plain HTTP on loopback port 9444 against PostgreSQL
/// (see `DeployerConfiguration+ConfigReader.swift` for the environment keys).
package struct DeployerConfiguration: Sendable {
    /// Which stores back the service.
    package enum StoreBackend: String, Sendable, Hashable {
        /// PostgreSQL (`DATABASE_URL` or `POSTGRES_*`), the default.
        case postgres
        /// In-process memory: state is lost on exit (tests and throwaway runs only).
        case memory
    }

    /// Caller-token settings: which issuers are trusted besides the built-in one, and JWKS caching.
    package struct Auth: Sendable, Hashable {
        /// External issuers: tokens whose `iss` equals ``ExternalIssuer/issuer`` are verified with its JWKS.
        package var externalIssuers: [ExternalIssuer] = []
        /// How long a fetched JWKS is used before it is fetched again.
        package var jwksCacheTTL: Duration = .seconds(600)
        /// Least time between two fetches of one JWKS (unknown `kid`s refetch at most this often).
        package var jwksMinRefetchInterval: Duration = .seconds(30)
        /// Time limit of one JWKS fetch.
        package var jwksFetchTimeout: Duration = .seconds(5)
        /// Tolerated clock difference for `exp`, `nbf` and `iat`.
        package var clockLeeway: Duration = .seconds(30)

        package init() {}
    }

    /// Encryption at rest of the signing keys' private halves (``SigningKeySealer``).
    package struct KeyEncryption: Sendable {
        /// The KEK that seals new keys and re-seals old ones at start-up; nil only in development
        /// (``allowPlaintext``) or with the in-memory store.
        package var current: KeyEncryptionKey?
        /// Earlier KEKs still accepted for decryption (rotation); values they sealed are re-sealed at start-up.
        package var previous: [KeyEncryptionKey] = []
        /// DEVELOPMENT ONLY: start without a KEK and store private keys as plaintext PEM.
        package var allowPlaintext = false

        package init() {}

        /// The sealer of these settings.
        package var sealer: SigningKeySealer { SigningKeySealer(current: current, previous: previous) }
    }

    /// A trusted external token issuer.
    package struct ExternalIssuer: Sendable, Hashable {
        package var issuer: String
        package var jwksURL: String

        package init(issuer: String, jwksURL: String) {
            self.issuer = issuer
            self.jwksURL = jwksURL
        }
    }

    /// Listen address and TLS; default `127.0.0.1:9444`, plain HTTP.
    package var server = HTTPServerSettings(host: "127.0.0.1", port: 9444)
    /// Largest accepted deploy body (multipart upload), in bytes.
    package var maxBodyBytes = 10 << 20
    /// Largest accepted `/oauth2/token` body, in bytes.
    package var tokenMaxBodyBytes = 16 * 1024
    /// Limits of the multipart parser.
    package var multipart = MultipartParser.Limits()
    /// Namespace APIs are stored in.
    package var namespace = "default"
    /// Gateway name and virtual hosts written into generated CRs.
    package var bundle = CRBundleBuilder.Options()
    /// The built-in token issuer: `iss`, `aud`, access-token lifetime.
    package var token = TokenIssuer.Settings()
    /// Signing-key rotation and caching (`retireWindow` is derived from the token and internal-key lifetimes).
    package var signingKeys = SigningKeyManager.Settings()
    /// KEKs of the signing keys' encryption at rest.
    package var keyEncryption = KeyEncryption()
    /// Client-secret hashing (PBKDF2 iterations) and the token endpoint's verification cache and KDF bounds.
    package var clientSecrets = ClientSecretVerifier.Settings()
    /// Lifetime of internal keys minted by generate-key.
    package var internalKeyTTL: Duration = .seconds(86_400)
    /// `iss` of internal keys: distinct from `token.issuer`, so that the router's access-token provider never accepts
    /// an internal key (the adapter's `auth.internal.key.issuer` must be the same value).
    package var internalKeyIssuer = "https://idp.am.wso2.com/internal-key"
    /// DEVELOPMENT ONLY: seed the reference quick-start client (``DevelopmentClient``).
    package var seedDevClient = false
    package var auth = Auth()
    package var storeBackend: StoreBackend = .postgres
    package var logLevel: Logger.Level = .info

    package init() {}

    /// How long a rotated-out key stays published: the longest lifetime of anything it signed, plus the leeway.
    package var retireWindow: Duration {
        max(token.tokenTTL, internalKeyTTL) + auth.clockLeeway
    }
}
