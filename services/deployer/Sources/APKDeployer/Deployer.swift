import APKModel
import APKRuntime
import APKStore
package import Foundation
package import Hummingbird
package import Logging
import Synchronization
package import APKAuth

/// The deployer's parts wired together from one configuration: stores, signing keys, the token issuer, the caller
/// token verifier and the API service. Production (``buildApplication(configuration:stores:logger:)``) and tests build it
/// the same way.
package struct Deployer: Sendable {
    package let configuration: DeployerConfiguration
    package let stores: DeployerStores
    package let keys: SigningKeyManager
    package let issuer: TokenIssuer
    /// Client-secret hashing and verification (PBKDF2, bounded and cached).
    package let secrets: ClientSecretVerifier
    package let verifier: TokenVerifier
    package let apis: APIService
    private let now: @Sendable () -> Date
    private let bootstrapped = BootstrapFlag()

    /// `jwksFetcher` fetches external issuers' key sets; `now` is the clock of every expiry decision.
    package init(
        configuration: DeployerConfiguration, stores: DeployerStores, jwksFetcher: any JWKSFetcher,
        now: @escaping @Sendable () -> Date = Date.init, logger: Logger
    ) {
        self.configuration = configuration
        self.stores = stores
        self.now = now
        var keySettings = configuration.signingKeys
        keySettings.retireWindow = configuration.retireWindow
        keys = SigningKeyManager(
            store: stores.controlPlane, settings: keySettings, sealer: configuration.keyEncryption.sealer, now: now,
            logger: logger)
        secrets = ClientSecretVerifier(settings: configuration.clientSecrets, now: now)
        issuer = TokenIssuer(
            settings: configuration.token, store: stores.controlPlane, keys: keys, secrets: secrets, now: now)
        var sources: [String: any IssuerKeySource] = [configuration.token.issuer: keys]
        for external in configuration.auth.externalIssuers {
            sources[external.issuer] = RemoteJWKS(
                url: external.jwksURL, fetcher: jwksFetcher, cacheTTL: configuration.auth.jwksCacheTTL,
                minRefetchInterval: configuration.auth.jwksMinRefetchInterval, now: now, logger: logger)
        }
        verifier = TokenVerifier(issuers: sources, leeway: configuration.auth.clockLeeway, now: now)
        apis = APIService(
            resources: stores.resources, controlPlane: stores.controlPlane, namespace: configuration.namespace,
            bundleOptions: configuration.bundle, now: now)
    }

    /// Adds every route: ops (`/health`, `/ready`, `/metrics`), the deployer API, the runtime API, OAuth2 and client
    /// management (`/dcr/register`).
    package func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        OpsRoutes(registry: APKMetrics.bootstrap(), readiness: { await isReady() }).add(to: router)
        let authenticator = CallerAuthenticator(verifier: verifier)
        let form = DeployForm(maxBodyBytes: configuration.maxBodyBytes, limits: configuration.multipart)
        DeployController<Context>(service: apis, authenticator: authenticator, form: form).addRoutes(to: router)
        RuntimeController<Context>(
            service: apis, authenticator: authenticator, keys: keys, issuer: configuration.internalKeyIssuer,
            keyTTL: configuration.internalKeyTTL, now: now
        ).addRoutes(to: router)
        OAuthController<Context>(issuer: issuer, keys: keys, maxBodyBytes: configuration.tokenMaxBodyBytes)
            .addRoutes(to: router)
        ClientRegistrationController<Context>(store: stores.controlPlane, authenticator: authenticator, secrets: secrets).addRoutes(to: router)
    }

    /// Ready once ``bootstrap(logger:)`` has succeeded and while both stores answer (the database is reachable);
    /// the store check is never cached.
    package func isReady() async -> Bool {
        guard bootstrapped.isSet else { return false }
        do {
            _ = try await stores.resources.latestCursor()
            _ = try await stores.controlPlane.signingKeys(now: now())
            return true
        } catch {
            return false
        }
    }

    /// One-time control-plane setup, safe to repeat: encrypts stored signing keys with the current KEK
    /// (``SigningKeyManager/sealStoredKeys()``; throws ``SigningKeySealer/Failure`` when one cannot be decrypted),
    /// seeds the development client when configured and makes sure a signing key exists (so the JWKS is never empty
    /// once the service is ready). Other failures are ``StoreError``s (retryable).
    package func bootstrap(logger: Logger) async throws {
        if configuration.keyEncryption.current == nil {
            logger.warning(
                "signing keys are stored UNENCRYPTED (no SIGNING_KEY_KEK); development only, never in production")
        }
        try await keys.sealStoredKeys()
        if configuration.seedDevClient, try await DevelopmentClient.seed(into: stores.controlPlane, secrets: secrets) {
            logger.warning(
                "seeded the DEVELOPMENT quick-start OAuth client (SEED_DEV_CLIENT=true); never enable this in production",
                metadata: ["oauth.client.id": .string(DevelopmentClient.clientID)])
        }
        _ = try await keys.activeSigner()
        bootstrapped.set()
    }
}

/// Set once the control plane has been bootstrapped.
private final class BootstrapFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
