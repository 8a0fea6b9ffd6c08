package import APKAuthPlan
/// What the xDS translator needs besides the IR: listener ports and TLS files, virtual-host aliases and the system
/// upstreams. Part of every snapshot's identity (a change re-renders everything).
package struct XDSSettings: Sendable, Hashable {
    /// Address the gateway listeners bind (`0.0.0.0`; the local stack uses `127.0.0.1`).
    package var listenerAddress = "0.0.0.0"
    /// HTTPS listener port; served only when `tls` is set.
    package var httpsPort = 9095
    /// Plain-HTTP listener port; nil: no HTTP listener.
    package var httpPort: Int? = 9080
    /// PEM files Envoy reads for the HTTPS listener (the key never crosses the xDS stream).
    package var tls: ListenerTLS?
    /// Production virtual hosts (`gw.wso2.com`): `default.<vhost>` also answers as `<vhost>` (contract §5.4).
    package var productionVhosts = ["gw.wso2.com"]
    /// The deployer (token issuer, deployer and runtime REST) behind `idp.am.wso2.com` and `api.am.wso2.com`.
    package var systemDeployer: Upstream? = Upstream(host: "127.0.0.1", port: 9444, tls: false)
    /// The config service behind `api.am.wso2.com/api/configurator/`.
    package var systemConfig: Upstream? = Upstream(host: "127.0.0.1", port: 9443, tls: false)
    /// The enforcer's HTTP port, whose `/jwks` (the backend-JWT keys) the router serves as
    /// `api.am.wso2.com/.wellknown/jwks` (contract §7.7); nil: no such route.
    package var systemEnforcerJWKS: Upstream? = Upstream(host: "127.0.0.1", port: 9092, tls: false)
    /// Upstream connect timeout for every cluster.
    package var connectTimeoutSeconds = 10
    /// Name of the one route configuration both listeners use (RDS over ADS).
    package var routeConfigName = "apk_gateway_routes"
    /// Token verification in the router (`jwt_authn` providers).
    package var auth = Auth()
    /// CORS of APIs without a policy of their own (contract §4.7; nil: none).
    package var corsDefault: CORSPlan? = .gatewayDefault
    /// `apk-ratelimiter` (Envoy RLS); nil: none (APIs with a rate limit are then not served).
    package var rateLimiter: RateLimiterLink? = RateLimiterLink(
        upstream: Upstream(host: "127.0.0.1", port: 8091, tls: false), timeoutMilliseconds: 100, failOpen: true)

    /// How the router reaches the ratelimiter: its answer is awaited at most `timeoutMilliseconds` (the ratelimiter
    /// answers within its own Redis deadline, 50 ms by default); then, or when it is down, the request is allowed
    /// (`failOpen`, the default) or refused with 500.
    package struct RateLimiterLink: Sendable, Hashable {
        package var upstream: Upstream
        package var timeoutMilliseconds: Int
        package var failOpen: Bool
        package var domain = "apk"
        /// Local-share mode (`RATELIMIT_LOCAL_SHARE`); nil: exact, every limited request asks the ratelimiter.
        package var localShare: LocalShareSettings?

        package init(upstream: Upstream, timeoutMilliseconds: Int, failOpen: Bool) {
            self.upstream = upstream
            self.timeoutMilliseconds = timeoutMilliseconds
            self.failOpen = failOpen
        }
    }

    /// The issuers and credential locations the gateway's `jwt_authn` filter knows. Fixed per gateway (a deploy never
    /// rewrites listeners); an API whose credentials are not among them is not served.
    package struct Auth: Sendable, Hashable {
        /// `iss` of access tokens of the built-in issuer (the deployer's `TOKEN_ISSUER`).
        package var issuer = "https://idp.am.wso2.com/token"
        /// `iss` of internal keys (the deployer's `INTERNAL_KEY_ISSUER`): never accepted as an access token.
        package var internalKeyIssuer = "https://idp.am.wso2.com/internal-key"
        /// Path of the built-in issuer's JWKS on the system deployer.
        package var jwksPath = "/oauth2/jwks"
        package var jwksCacheSeconds = 300
        /// Headers OAuth2 access tokens may be sent in (lower case), `Authorization` by default.
        package var oauth2Headers = ["authorization"]
        /// Issuers trusted besides the built-in one (the deployer's `AUTH_ISSUERS` equivalent), in order.
        package var externalIssuers: [ExternalIssuer] = []
        /// Issuers of API keys (JWTs, contract §7.3: WSO2 API Manager's in the reference); none: APIs with API-key
        /// authentication are not served.
        package var apiKeyIssuers: [ExternalIssuer] = []
        /// Who decides each secured request (gateway-wide).
        package var enforcement = Enforcement.native
        /// How `native` mode adds backend JWTs: a per-worker Lua cache asking the enforcer's HTTP port on a miss
        /// (default), or ext_authz on every such request.
        package var backendJWTStage = BackendJWTStage.lua
        /// `apk-enforcer`'s gRPC port: every secured request in `enforcer` mode, only backend-JWT routes in `native`
        /// mode; nil: no enforcer (`enforcer` mode needs one; backend-JWT APIs are then not served).
        package var enforcer: EnforcerLink? = EnforcerLink(
            upstream: Upstream(host: "127.0.0.1", port: 8081, tls: false), timeoutMilliseconds: 1000)

        package init() {}

        /// The `iss` of every issuer the gateway itself trusts (for every API): an organization's `TokenIssuer` may
        /// not name one.
        package var reservedIssuers: Set<String> {
            Set([issuer, internalKeyIssuer] + externalIssuers.map(\.issuer) + apiKeyIssuers.map(\.issuer))
        }
    }

    /// Where the gateway's security decisions run (docs/enforcer-design.md).
    package enum Enforcement: Sendable, Hashable {
        /// Envoy's own filters (`jwt_authn`, RBAC, local replies): no call to Swift per request, except on routes
        /// whose API has a backend JWT (the enforcer signs it from the verified payload).
        case native
        /// `apk-enforcer` over ext_authz decides every secured request with the route's ``RoutePlan``.
        case enforcer
    }

    package enum BackendJWTStage: String, Sendable, Hashable {
        case lua
        case extAuthz = "ext_authz"
    }

    /// How the router reaches `apk-enforcer`. Fail closed: unreachable or slower than `timeoutMilliseconds` ⇒ 503
    /// (code 102517), never forwarded.
    package struct EnforcerLink: Sendable, Hashable {
        package var upstream: Upstream
        package var timeoutMilliseconds: Int

        package init(upstream: Upstream, timeoutMilliseconds: Int) {
            self.upstream = upstream
            self.timeoutMilliseconds = timeoutMilliseconds
        }
    }

    /// A token issuer whose keys Envoy fetches from `jwks` + `path` (cluster `apk-system/jwks/<index>`).
    package struct ExternalIssuer: Sendable, Hashable {
        package var issuer: String
        package var jwks: Upstream
        package var path: String

        package init(issuer: String, jwks: Upstream, path: String) {
            self.issuer = issuer
            self.jwks = jwks
            self.path = path
        }

        /// From `<issuer>` and an `http(s)://host[:port]/path` URL; nil when the URL is not one.
        package init?(issuer: String, jwksURL: String) {
            let scheme = jwksURL.hasPrefix("https://") ? "https://" : "http://"
            let rest = jwksURL.dropFirst(scheme.count)
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            let path = String(rest[slash...])
            guard jwksURL.hasPrefix(scheme), !path.contains(" "), !path.contains("#"),
                let upstream = Upstream(url: scheme + rest[..<slash])
            else { return nil }
            self.init(issuer: issuer, jwks: upstream, path: path.isEmpty ? "/" : path)
        }
    }

    package struct ListenerTLS: Sendable, Hashable {
        package var certificatePath: String
        package var keyPath: String

        package init(certificatePath: String, keyPath: String) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }
    }

    package struct Upstream: Sendable, Hashable {
        package var host: String
        package var port: Int
        package var tls: Bool

        package init(host: String, port: Int, tls: Bool) {
            self.host = host
            self.port = port
            self.tls = tls
        }

        /// Parses `http://host:port` or `https://host:port` (a path is not allowed); nil when malformed.
        package init?(url: String) {
            let scheme: Bool
            var rest: Substring
            if url.hasPrefix("http://") {
                scheme = false
                rest = url.dropFirst(7)
            } else if url.hasPrefix("https://") {
                scheme = true
                rest = url.dropFirst(8)
            } else {
                return nil
            }
            if rest.hasSuffix("/") { rest = rest.dropLast() }
            guard !rest.contains("/"), !rest.isEmpty else { return nil }
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, !parts[0].isEmpty else { return nil }
            let port: Int
            if parts.count == 2 {
                guard let p = Int(parts[1]), (1...65535).contains(p) else { return nil }
                port = p
            } else {
                port = scheme ? 443 : 80
            }
            self.init(host: String(parts[0]), port: port, tls: scheme)
        }
    }

    package init() {}

    /// Listener names (contract §9: `<PROTOCOL>_<port>_listener`).
    package var httpsListenerName: String { "HTTPS_\(httpsPort)_listener" }
    package func httpListenerName(_ port: Int) -> String { "HTTP_\(port)_listener" }
}
