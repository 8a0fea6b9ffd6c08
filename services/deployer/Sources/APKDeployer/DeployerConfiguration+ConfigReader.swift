import APKModel
import APKRuntime
import Foundation
package import APKSupport
import APKConversion

extension DeployerConfiguration {
    /// Reads the configuration from environment variables (``ConfigReader``):
    ///
    /// | key | variable | type | default |
    /// |---|---|---|---|
    /// | `http.host` | `HTTP_HOST` | string | `127.0.0.1` |
    /// | `http.port` | `HTTP_PORT` | int 0–65535 | `9444` |
    /// | `tls.certificate` | `TLS_CERTIFICATE` | PEM chain path | unset: plain HTTP |
    /// | `tls.key` | `TLS_KEY` | PEM key path | unset: plain HTTP |
    /// | `log.level` | `LOG_LEVEL` | swift-log level | `info` |
    /// | `limits.max.body.bytes` | `LIMITS_MAX_BODY_BYTES` | int 1024…268435456 (256 MiB) | `10485760` (10 MiB) |
    /// | `token.max.body.bytes` | `TOKEN_MAX_BODY_BYTES` | int ≥ 256 | `16384` |
    /// | `deploy.namespace` | `DEPLOY_NAMESPACE` | string | `default` |
    /// | `gateway.name` | `GATEWAY_NAME` | string | `wso2-apk-default` |
    /// | `gateway.vhosts.production` | `GATEWAY_VHOSTS_PRODUCTION` | comma list | `gw.wso2.com` |
    /// | `gateway.vhosts.sandbox` | `GATEWAY_VHOSTS_SANDBOX` | comma list | `sandbox.gw.wso2.com` |
    /// | `token.issuer` | `TOKEN_ISSUER` | string (`iss`) | `https://idp.am.wso2.com/token` |
    /// | `token.audience` | `TOKEN_AUDIENCE` | string (`aud`) | `aud1` |
    /// | `token.ttl` | `TOKEN_TTL` | duration | `3600s` |
    /// | `signing.key.max.age` | `SIGNING_KEY_MAX_AGE` | duration | `720h` (30 days) |
    /// | `signing.key.cache.ttl` | `SIGNING_KEY_CACHE_TTL` | duration | `60s` |
    /// | `signing.key.publish.lead` | `SIGNING_KEY_PUBLISH_LEAD` | duration (< max age) | `6m` (more than the gateways' JWKS cache period) |
    /// | `internal.key.ttl` | `INTERNAL_KEY_TTL` | duration | `24h` |
    /// | `internal.key.issuer` | `INTERNAL_KEY_ISSUER` | string (`iss` of internal keys; ≠ `token.issuer`) | `https://idp.am.wso2.com/internal-key` |
    /// | `seed.dev.client` | `SEED_DEV_CLIENT` | bool | `false` (development fixture, see README) |
    /// | `auth.issuers` | `AUTH_ISSUERS` | comma list of `<issuer>\|<jwks-url>` | empty (built-in issuer only) |
    /// | `auth.jwks.cache.ttl` | `AUTH_JWKS_CACHE_TTL` | duration | `10m` |
    /// | `auth.jwks.min.refetch.interval` | `AUTH_JWKS_MIN_REFETCH_INTERVAL` | duration | `30s` |
    /// | `auth.jwks.fetch.timeout` | `AUTH_JWKS_FETCH_TIMEOUT` | duration | `5s` |
    /// | `auth.clock.leeway` | `AUTH_CLOCK_LEEWAY` | duration | `30s` |
    /// | `store.backend` | `STORE_BACKEND` | `postgres` or `memory` | `postgres` |
    /// | `signing.key.kek` | `SIGNING_KEY_KEK` | base64 of 32 bytes (secret) | unset |
    /// | `signing.key.kek.file` | `SIGNING_KEY_KEK_FILE` | path of a file holding that base64 (secret) | unset |
    /// | `signing.key.kek.previous` | `SIGNING_KEY_KEK_PREVIOUS` | base64 of 32 bytes (secret; rotation) | unset |
    /// | `signing.key.kek.previous.file` | `SIGNING_KEY_KEK_PREVIOUS_FILE` | path (secret; rotation) | unset |
    /// | `signing.key.allow.plaintext` | `SIGNING_KEY_ALLOW_PLAINTEXT` | bool (development only) | `false` |
    /// | `client.secret.pbkdf2.iterations` | `CLIENT_SECRET_PBKDF2_ITERATIONS` | int 600000–10000000 | `600000` |
    /// | `client.secret.cache.ttl` | `CLIENT_SECRET_CACHE_TTL` | duration (`0s`: no cache) | `5m` |
    /// | `client.secret.cache.size` | `CLIENT_SECRET_CACHE_SIZE` | int 0–1000000 | `1024` |
    /// | `client.secret.kdf.concurrency` | `CLIENT_SECRET_KDF_CONCURRENCY` | int 1–16 | `1` |
    /// | `client.secret.kdf.max.waiting` | `CLIENT_SECRET_KDF_MAX_WAITING` | int 0–10000 | `32` |
    ///
    /// A KEK (one of `SIGNING_KEY_KEK`, `SIGNING_KEY_KEK_FILE`) is required unless `STORE_BACKEND=memory` or
    /// `SIGNING_KEY_ALLOW_PLAINTEXT=true` (development only); see `DeployerConfiguration+Secrets.swift`.
    ///
    /// With `postgres`, the database is configured by APKStore's own keys (`DATABASE_URL`, or `POSTGRES_HOST`,
    /// `POSTGRES_PORT`, `POSTGRES_USER`, `POSTGRES_PASSWORD`, `POSTGRES_DB`).
    package init(reader: ConfigReader) throws {
        self.init()
        server = try HTTPServerSettings(reader: reader, defaultHost: server.host, defaultPort: server.port)
        logLevel = try APKLogging.level(from: reader)
        maxBodyBytes = try reader.int("limits.max.body.bytes", default: maxBodyBytes, range: 1024...HTTPServerSettings.maxBodyBytesCeiling)
        tokenMaxBodyBytes = try reader.int("token.max.body.bytes", default: tokenMaxBodyBytes, range: 256...(1 << 20))
        namespace = reader.string("deploy.namespace", default: namespace)
        bundle.gatewayName = reader.string("gateway.name", default: bundle.gatewayName)
        bundle.productionVhosts = reader.list("gateway.vhosts.production", default: bundle.productionVhosts)
        bundle.sandboxVhosts = reader.list("gateway.vhosts.sandbox", default: bundle.sandboxVhosts)
        token.issuer = reader.string("token.issuer", default: token.issuer)
        token.audience = reader.string("token.audience", default: token.audience)
        token.tokenTTL = try reader.duration("token.ttl", default: token.tokenTTL)
        signingKeys.maxAge = try reader.duration("signing.key.max.age", default: signingKeys.maxAge)
        signingKeys.cacheTTL = try reader.duration("signing.key.cache.ttl", default: signingKeys.cacheTTL)
        signingKeys.publishLead = try reader.duration("signing.key.publish.lead", default: signingKeys.publishLead)
        guard signingKeys.publishLead < signingKeys.maxAge else {
            throw InvalidConfiguration(key: "signing.key.publish.lead", reason: "must be shorter than SIGNING_KEY_MAX_AGE")
        }
        internalKeyTTL = try reader.duration("internal.key.ttl", default: internalKeyTTL)
        internalKeyIssuer = reader.string("internal.key.issuer", default: internalKeyIssuer)
        guard internalKeyIssuer != token.issuer, !internalKeyIssuer.isEmpty else {
            throw InvalidConfiguration(key: "internal.key.issuer", reason: "must be set and differ from TOKEN_ISSUER")
        }
        seedDevClient = try reader.bool("seed.dev.client", default: seedDevClient)
        auth.externalIssuers = try reader.issuerList("auth.issuers").map { ExternalIssuer(issuer: $0.issuer, jwksURL: $0.jwksURL) }
        if auth.externalIssuers.contains(where: { $0.issuer == token.issuer }) {
            throw InvalidConfiguration(key: "auth.issuers", reason: "\(token.issuer) is the built-in issuer (TOKEN_ISSUER)")
        }
        auth.jwksCacheTTL = try reader.duration("auth.jwks.cache.ttl", default: auth.jwksCacheTTL)
        auth.jwksMinRefetchInterval = try reader.duration(
            "auth.jwks.min.refetch.interval", default: auth.jwksMinRefetchInterval)
        auth.jwksFetchTimeout = try reader.duration("auth.jwks.fetch.timeout", default: auth.jwksFetchTimeout)
        auth.clockLeeway = try reader.duration("auth.clock.leeway", default: auth.clockLeeway)
        let backend = reader.string("store.backend", default: storeBackend.rawValue).lowercased()
        guard let parsed = StoreBackend(rawValue: backend) else {
            throw InvalidConfiguration(key: "store.backend", reason: "expected postgres or memory, found \"\(backend)\"")
        }
        storeBackend = parsed
        try readSecrets(reader)
    }
}

/// A configuration value the deployer cannot use (beyond the type errors ``ConfigReader`` reports itself).
package struct InvalidConfiguration: Error, Sendable, Hashable, CustomStringConvertible {
    package var key: String
    package var reason: String

    package var description: String {
        "configuration \(ConfigReader.variableName(for: key)) (\(key)): \(reason)"
    }
}
