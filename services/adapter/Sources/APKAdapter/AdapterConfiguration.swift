import APKAuthPlan
package import APKRuntime
import Foundation
package import Logging
package import APKSupport

/// Everything `apk-adapter` reads at start-up (see ``init(reader:)`` for the keys).
package struct AdapterConfiguration: Sendable {
    /// The ops server (`/health`, `/ready`, `/metrics`).
    package var ops = HTTPServerSettings(host: "127.0.0.1", port: 18001)
    package var xdsHost = "127.0.0.1"
    package var xdsPort = 18000
    package var logLevel: Logger.Level = .info
    /// The namespace whose resources are translated (the deployer's `DEPLOY_NAMESPACE`).
    package var namespace = "default"
    /// The Envoy node id served (the gateway name; Envoy's bootstrap `node.id`).
    package var nodeID = "wso2-apk-default"
    /// Node ids of the APK discovery clients (enforcer, ratelimiter) served the token issuers and rate limits.
    package var serviceNodeIDs = ["apk-enforcer", "apk-ratelimiter"]
    package var xds = XDSSettings()
    package var storeBackend = StoreBackend.postgres

    package enum StoreBackend: String, Sendable {
        case postgres, memory
    }

    package init() {}

    /// Reads the configuration from environment variables (``ConfigReader``):
    ///
    /// | key | variable | default |
    /// |---|---|---|
    /// | `http.host` / `http.port` | `HTTP_HOST` / `HTTP_PORT` | `127.0.0.1` / `18001` (ops server) |
    /// | `xds.host` / `xds.port` | `XDS_HOST` / `XDS_PORT` | `127.0.0.1` / `18000` (ADS, gRPC) |
    /// | `log.level` | `LOG_LEVEL` | `info` |
    /// | `watch.namespace` | `WATCH_NAMESPACE` | `default` |
    /// | `gateway.name` | `GATEWAY_NAME` | `wso2-apk-default` (Envoy node id) |
    /// | `discovery.nodes` | `DISCOVERY_NODES` | `apk-enforcer,apk-ratelimiter` (node ids served APK discovery: token issuers, rate limits) |
    /// | `gateway.listener.address` | `GATEWAY_LISTENER_ADDRESS` | `0.0.0.0` |
    /// | `gateway.https.port` | `GATEWAY_HTTPS_PORT` | `9095` |
    /// | `gateway.http.port` | `GATEWAY_HTTP_PORT` | `9080` (`0`: no HTTP listener) |
    /// | `gateway.tls.certificate` / `gateway.tls.key` | `GATEWAY_TLS_CERTIFICATE` / `GATEWAY_TLS_KEY` | unset: no HTTPS listener |
    /// | `gateway.vhosts.production` | `GATEWAY_VHOSTS_PRODUCTION` | `gw.wso2.com` |
    /// | `gateway.connect.timeout` | `GATEWAY_CONNECT_TIMEOUT` | `10s` |
    /// | `gateway.cors.default` | `GATEWAY_CORS_DEFAULT` | `enabled` (APIs without a CORS policy get ``CORSPlan/gatewayDefault``) or `disabled` |
    /// | `system.deployer.url` | `SYSTEM_DEPLOYER_URL` | `http://127.0.0.1:9444` (`none`: no route) |
    /// | `system.config.url` | `SYSTEM_CONFIG_URL` | `http://127.0.0.1:9443` (`none`: no route) |
    /// | `system.enforcer.jwks.url` | `SYSTEM_ENFORCER_JWKS_URL` | `http://127.0.0.1:9092` (the enforcer's HTTP port, served as `api.am.wso2.com/.wellknown/jwks`; `none`: no route) |
    /// | `store.backend` | `STORE_BACKEND` | `postgres` (`DATABASE_URL` or `POSTGRES_*`) |
    /// | `auth.issuer` | `AUTH_ISSUER` | `https://idp.am.wso2.com/token` (the deployer's `TOKEN_ISSUER`) |
    /// | `auth.internal.key.issuer` | `AUTH_INTERNAL_KEY_ISSUER` | `https://idp.am.wso2.com/internal-key` (the deployer's `INTERNAL_KEY_ISSUER`) |
    /// | `auth.oauth2.headers` | `AUTH_OAUTH2_HEADERS` | `authorization` (comma list: headers OAuth2 tokens may come in) |
    /// | `auth.jwks.cache.ttl` | `AUTH_JWKS_CACHE_TTL` | `5m` |
    /// | `auth.issuers` | `AUTH_ISSUERS` | empty (comma list of `<issuer>\|<http(s) JWKS URL>`, trusted for every API) |
    /// | `auth.api.key.issuers` | `AUTH_API_KEY_ISSUERS` | empty (comma list of `<issuer>\|<http(s) JWKS URL>`: who signs API keys) |
    /// | `auth.enforcement` | `AUTH_ENFORCEMENT` | `native` (Envoy's filters) or `enforcer` (ext_authz to `apk-enforcer`) |
    /// | `auth.enforcer.url` | `AUTH_ENFORCER_URL` | `http://127.0.0.1:8081` (its gRPC port: every secured request in `enforcer` mode, backend-JWT routes in `native` mode; `none`: no enforcer) |
    /// | `auth.backend.jwt.stage` | `AUTH_BACKEND_JWT_STAGE` | `lua` (`native` mode: a per-worker token cache asking the enforcer's HTTP port on a miss) or `ext_authz` (the enforcer on every such request) |
    /// | `auth.enforcer.timeout` | `AUTH_ENFORCER_TIMEOUT` | `1s` (then 503: fail closed) |
    /// | `ratelimiter.url` | `RATELIMITER_URL` | `http://127.0.0.1:8091` (`apk-ratelimiter`'s gRPC port; `none`: no ratelimiter, APIs with a rate limit are not served) |
    /// | `ratelimit.timeout` | `RATELIMIT_TIMEOUT` | `100ms` (the router's wait for the ratelimiter) |
    /// | `ratelimit.fail.open` | `RATELIMIT_FAIL_OPEN` | `true` (ratelimiter down or late: allow; `false`: 500) |
    /// | `ratelimit.local.share` | `RATELIMIT_LOCAL_SHARE` | `off` (exact); a fraction 0 < f < 1: local-share mode, the routers pass f of each quota large enough on their own |
    /// | `router.replicas` | `ROUTER_REPLICAS` | `1` (router replicas sharing the quotas, for local-share mode) |
    package init(reader: ConfigReader) throws {
        self.init()
        ops = try HTTPServerSettings(reader: reader, defaultHost: ops.host, defaultPort: ops.port)
        logLevel = try APKLogging.level(from: reader)
        xdsHost = reader.string("xds.host", default: xdsHost)
        xdsPort = try reader.int("xds.port", default: xdsPort, range: 0...65535)
        namespace = reader.string("watch.namespace", default: namespace)
        nodeID = reader.string("gateway.name", default: nodeID)
        serviceNodeIDs = reader.list("discovery.nodes", default: serviceNodeIDs)
        xds.listenerAddress = reader.string("gateway.listener.address", default: xds.listenerAddress)
        xds.httpsPort = try reader.int("gateway.https.port", default: xds.httpsPort, range: 1...65535)
        let http = try reader.int("gateway.http.port", default: xds.httpPort ?? 0, range: 0...65535)
        xds.httpPort = http == 0 ? nil : http
        switch (reader.string("gateway.tls.certificate"), reader.string("gateway.tls.key")) {
        case (nil, nil): xds.tls = nil
        case (let certificate?, let key?): xds.tls = XDSSettings.ListenerTLS(certificatePath: certificate, keyPath: key)
        default:
            throw ConfigReader.Failure(key: "gateway.tls.certificate", reason: "set GATEWAY_TLS_CERTIFICATE and GATEWAY_TLS_KEY together")
        }
        xds.productionVhosts = reader.list("gateway.vhosts.production", default: xds.productionVhosts)
        let timeout = try reader.duration("gateway.connect.timeout", default: .seconds(xds.connectTimeoutSeconds))
        xds.connectTimeoutSeconds = max(1, Int(timeout.components.seconds))
        switch reader.string("gateway.cors.default", default: "enabled").lowercased() {
        case "enabled": xds.corsDefault = .gatewayDefault
        case "disabled": xds.corsDefault = nil
        case let other:
            throw ConfigReader.Failure(key: "gateway.cors.default", reason: "expected enabled or disabled, found \"\(other)\"")
        }
        xds.systemDeployer = try Self.upstream(reader, "system.deployer.url", default: "http://127.0.0.1:9444")
        xds.systemConfig = try Self.upstream(reader, "system.config.url", default: "http://127.0.0.1:9443")
        xds.systemEnforcerJWKS = try Self.upstream(reader, "system.enforcer.jwks.url", default: "http://127.0.0.1:9092")
        xds.auth.issuer = reader.string("auth.issuer", default: xds.auth.issuer)
        xds.auth.internalKeyIssuer = reader.string("auth.internal.key.issuer", default: xds.auth.internalKeyIssuer)
        guard !xds.auth.issuer.isEmpty, xds.auth.internalKeyIssuer != xds.auth.issuer else {
            throw ConfigReader.Failure(key: "auth.internal.key.issuer", reason: "must differ from AUTH_ISSUER")
        }
        let headers = reader.list("auth.oauth2.headers", default: xds.auth.oauth2Headers).map { $0.lowercased() }
        guard !headers.isEmpty, headers.allSatisfy(AuthPlanBuilder.isHeaderName),
            !headers.contains(AuthPlanBuilder.internalKeyHeader)
        else {
            throw ConfigReader.Failure(key: "auth.oauth2.headers", reason: "expected header names other than internal-key")
        }
        xds.auth.oauth2Headers = Array(Set(headers)).sorted()
        xds.auth.externalIssuers = try reader.issuerList("auth.issuers").map { entry in
            guard entry.issuer != xds.auth.issuer, entry.issuer != xds.auth.internalKeyIssuer,
                let issuer = XDSSettings.ExternalIssuer(issuer: entry.issuer, jwksURL: entry.jwksURL)
            else {
                throw ConfigReader.Failure(key: "auth.issuers", reason: "\(entry.issuer): not a separate issuer with an http(s)://host[:port]/path JWKS URL")
            }
            return issuer
        }
        xds.auth.apiKeyIssuers = try reader.issuerList("auth.api.key.issuers").map { entry in
            guard entry.issuer != xds.auth.internalKeyIssuer,
                let issuer = XDSSettings.ExternalIssuer(issuer: entry.issuer, jwksURL: entry.jwksURL)
            else {
                throw ConfigReader.Failure(key: "auth.api.key.issuers", reason: "\(entry.issuer): not an issuer with an http(s)://host[:port]/path JWKS URL")
            }
            return issuer
        }
        let ttl = try reader.duration("auth.jwks.cache.ttl", default: .seconds(xds.auth.jwksCacheSeconds))
        xds.auth.jwksCacheSeconds = max(1, Int(ttl.components.seconds))
        (xds.auth.enforcement, xds.auth.enforcer) = try Self.enforcement(reader)
        xds.rateLimiter = try Self.rateLimiter(reader)
        let stage = reader.string("auth.backend.jwt.stage", default: xds.auth.backendJWTStage.rawValue).lowercased()
        guard let backendJWTStage = XDSSettings.BackendJWTStage(rawValue: stage) else {
            throw ConfigReader.Failure(key: "auth.backend.jwt.stage", reason: "expected lua or ext_authz, found \"\(stage)\"")
        }
        xds.auth.backendJWTStage = backendJWTStage
        let backend = reader.string("store.backend", default: storeBackend.rawValue).lowercased()
        guard let parsed = StoreBackend(rawValue: backend) else {
            throw ConfigReader.Failure(key: "store.backend", reason: "expected postgres or memory, found \"\(backend)\"")
        }
        storeBackend = parsed
    }

    static func enforcement(
        _ reader: ConfigReader
    ) throws -> (XDSSettings.Enforcement, XDSSettings.EnforcerLink?) {
        let mode: XDSSettings.Enforcement
        switch reader.string("auth.enforcement", default: "native").lowercased() {
        case "native": mode = .native
        case "enforcer": mode = .enforcer
        case let other:
            throw ConfigReader.Failure(key: "auth.enforcement", reason: "expected native or enforcer, found \"\(other)\"")
        }
        guard let enforcer = try upstream(reader, "auth.enforcer.url", default: "http://127.0.0.1:8081") else {
            guard mode == .native else {
                throw ConfigReader.Failure(key: "auth.enforcer.url", reason: "enforcer mode needs the enforcer's URL")
            }
            return (mode, nil)
        }
        guard !enforcer.tls else {
            throw ConfigReader.Failure(key: "auth.enforcer.url", reason: "expected http://host:port (plaintext gRPC)")
        }
        let timeout = try reader.duration("auth.enforcer.timeout", default: .seconds(1))
        let milliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        guard (1...60_000).contains(milliseconds) else {
            throw ConfigReader.Failure(key: "auth.enforcer.timeout", reason: "expected 1ms to 60s")
        }
        return (mode, XDSSettings.EnforcerLink(upstream: enforcer, timeoutMilliseconds: Int(milliseconds)))
    }

    /// `RATELIMITER_URL` (`none`: no ratelimiter), `RATELIMIT_TIMEOUT`, `RATELIMIT_FAIL_OPEN`.
    static func rateLimiter(_ reader: ConfigReader) throws -> XDSSettings.RateLimiterLink? {
        guard let upstream = try upstream(reader, "ratelimiter.url", default: "http://127.0.0.1:8091") else { return nil }
        guard !upstream.tls else {
            throw ConfigReader.Failure(key: "ratelimiter.url", reason: "expected http://host:port (plaintext gRPC)")
        }
        let timeout = try reader.duration("ratelimit.timeout", default: .milliseconds(100))
        let milliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        guard (1...10_000).contains(milliseconds) else {
            throw ConfigReader.Failure(key: "ratelimit.timeout", reason: "expected 1ms to 10s")
        }
        var link = XDSSettings.RateLimiterLink(
            upstream: upstream, timeoutMilliseconds: Int(milliseconds), failOpen: try reader.bool("ratelimit.fail.open", default: true))
        link.localShare = try localShare(reader)
        return link
    }

    /// `RATELIMIT_LOCAL_SHARE` (`off` or a fraction strictly between 0 and 1) and `ROUTER_REPLICAS`.
    static func localShare(_ reader: ConfigReader) throws -> LocalShareSettings? {
        let text = reader.string("ratelimit.local.share", default: "off").lowercased()
        guard !["off", "false", "0", "none"].contains(text) else { return nil }
        guard let fraction = Double(text), fraction > 0, fraction < 1 else {
            throw ConfigReader.Failure(
                key: "ratelimit.local.share", reason: "expected off or a fraction between 0 and 1 (e.g. 0.5), found \"\(text)\"")
        }
        let replicas = try reader.int("router.replicas", default: 1, range: 1...10_000)
        return LocalShareSettings(fraction: fraction, routerReplicas: replicas)
    }

    static func upstream(_ reader: ConfigReader, _ key: String, default value: String) throws -> XDSSettings.Upstream? {
        let url = reader.string(key, default: value)
        if url.lowercased() == "none" { return nil }
        guard let upstream = XDSSettings.Upstream(url: url) else {
            throw ConfigReader.Failure(key: key, reason: "expected http(s)://host:port, found \"\(url)\"")
        }
        return upstream
    }
}
