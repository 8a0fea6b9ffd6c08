package import APKRuntime
package import APKSupport
package import Logging

/// Everything `apk-enforcer` reads at start-up (see ``init(reader:)`` for the keys).
package struct EnforcerConfiguration: Sendable {
    /// The ops server (`/health`, `/ready`, `/metrics`; the backend-JWT `/jwks` will be served here too).
    package var ops = HTTPServerSettings(host: "127.0.0.1", port: 9092)
    /// The ext_authz gRPC server (`envoy.service.auth.v3.Authorization`).
    package var grpcHost = "127.0.0.1"
    package var grpcPort = 8081
    /// Which gRPC server answers `Check`.
    package var grpcServer = GRPCServerKind.lean
    package var logLevel: Logger.Level = .info
    /// `iss` of the built-in issuer's access tokens (the deployer's `TOKEN_ISSUER`; the adapter's `AUTH_ISSUER`).
    package var issuer = "https://idp.am.wso2.com/token"
    /// `iss` of internal keys (the deployer's `INTERNAL_KEY_ISSUER`).
    package var internalKeyIssuer = "https://idp.am.wso2.com/internal-key"
    /// The built-in issuer's JWKS: the keys of its access tokens and of internal keys.
    package var jwksURL = "http://127.0.0.1:9444/oauth2/jwks"
    /// More access-token issuers and their JWKS URLs (the adapter's `AUTH_ISSUERS`).
    package var externalIssuers: [(issuer: String, jwksURL: String)] = []
    /// Issuers of API keys and their JWKS URLs (the adapter's `AUTH_API_KEY_ISSUERS`).
    package var apiKeyIssuers: [(issuer: String, jwksURL: String)] = []
    /// How long fetched keys are used before they are fetched again (Envoy's `jwt_authn` cache period).
    package var jwksCacheTTL: Duration = .seconds(300)
    /// PEM file of the RSA key backend JWTs are signed with; nil: a key generated at start (one replica only).
    package var backendJWTKeyFile: String?
    /// The adapter's ADS server, for the organizations' token issuers (APK discovery); nil: none (only the
    /// gateway's own issuers are trusted, and the enforcer is ready without it).
    package var discovery: (host: String, port: Int)?
    /// The node id the enforcer subscribes as (one of the adapter's `DISCOVERY_NODES`).
    package var discoveryNodeID = "apk-enforcer"

    package init() {}

    /// Reads the configuration from environment variables (``ConfigReader``):
    ///
    /// | key | variable | default |
    /// |---|---|---|
    /// | `grpc.host` / `grpc.port` | `GRPC_HOST` / `GRPC_PORT` | `127.0.0.1` / `8081` (ext_authz) |
    /// | `grpc.server` | `GRPC_SERVER` | `lean` (the unary server on NIOHTTP2) or `grpc-swift` (grpc-swift-2; for comparison) |
    /// | `http.host` / `http.port` | `HTTP_HOST` / `HTTP_PORT` | `127.0.0.1` / `9092` (ops) |
    /// | `log.level` | `LOG_LEVEL` | `info` |
    /// | `auth.issuer` | `AUTH_ISSUER` | `https://idp.am.wso2.com/token` |
    /// | `auth.internal.key.issuer` | `AUTH_INTERNAL_KEY_ISSUER` | `https://idp.am.wso2.com/internal-key` (must differ) |
    /// | `auth.jwks.url` | `AUTH_JWKS_URL` | `http://127.0.0.1:9444/oauth2/jwks` (the deployer's JWKS) |
    /// | `auth.issuers` | `AUTH_ISSUERS` | empty (comma list of `<issuer>\|<http(s) JWKS URL>`) |
    /// | `auth.api.key.issuers` | `AUTH_API_KEY_ISSUERS` | empty (comma list of `<issuer>\|<http(s) JWKS URL>`: who signs API keys) |
    /// | `auth.jwks.cache.ttl` | `AUTH_JWKS_CACHE_TTL` | `5m` |
    /// | `backend.jwt.key.file` | `BACKEND_JWT_KEY_FILE` | unset: a key generated at start (set it when running replicas) |
    /// | `discovery.url` | `DISCOVERY_URL` | `http://127.0.0.1:18000` (the adapter's ADS: token issuers; `none`: only the gateway's issuers) |
    /// | `discovery.node.id` | `DISCOVERY_NODE_ID` | `apk-enforcer` |
    package init(reader: ConfigReader) throws {
        self.init()
        ops = try HTTPServerSettings(reader: reader, defaultHost: ops.host, defaultPort: ops.port)
        logLevel = try APKLogging.level(from: reader)
        grpcHost = reader.string("grpc.host", default: grpcHost)
        grpcPort = try reader.int("grpc.port", default: grpcPort, range: 0...65535)
        let server = reader.string("grpc.server", default: grpcServer.rawValue)
        guard let kind = GRPCServerKind(rawValue: server) else {
            throw ConfigReader.Failure(key: "grpc.server", reason: "expected lean or grpc-swift, found \"\(server)\"")
        }
        grpcServer = kind
        issuer = reader.string("auth.issuer", default: issuer)
        internalKeyIssuer = reader.string("auth.internal.key.issuer", default: internalKeyIssuer)
        guard !issuer.isEmpty, !internalKeyIssuer.isEmpty, issuer != internalKeyIssuer else {
            throw ConfigReader.Failure(key: "auth.internal.key.issuer", reason: "must be set and differ from AUTH_ISSUER")
        }
        jwksURL = reader.string("auth.jwks.url", default: jwksURL)
        guard Self.isHTTPURL(jwksURL) else {
            throw ConfigReader.Failure(key: "auth.jwks.url", reason: "expected an http(s) URL, found \"\(jwksURL)\"")
        }
        externalIssuers = try reader.issuerList("auth.issuers")
        if let clash = externalIssuers.first(where: { $0.issuer == issuer || $0.issuer == internalKeyIssuer }) {
            throw ConfigReader.Failure(key: "auth.issuers", reason: "\(clash.issuer) is the built-in or internal-key issuer")
        }
        apiKeyIssuers = try reader.issuerList("auth.api.key.issuers")
        if let clash = apiKeyIssuers.first(where: { $0.issuer == internalKeyIssuer }) {
            throw ConfigReader.Failure(key: "auth.api.key.issuers", reason: "\(clash.issuer) is the internal-key issuer")
        }
        jwksCacheTTL = try reader.duration("auth.jwks.cache.ttl", default: jwksCacheTTL)
        backendJWTKeyFile = reader.string("backend.jwt.key.file")
        let discoveryURL = reader.string("discovery.url", default: "http://127.0.0.1:18000")
        if discoveryURL != "none" {
            guard let upstream = Self.hostAndPort(discoveryURL) else {
                throw ConfigReader.Failure(key: "discovery.url", reason: "expected http://host:port or none, found \"\(discoveryURL)\"")
            }
            discovery = upstream
        }
        discoveryNodeID = reader.string("discovery.node.id", default: discoveryNodeID)
    }

    /// `http://host:port` → (host, port).
    static func hostAndPort(_ url: String) -> (host: String, port: Int)? {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst(7).split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port)
        else { return nil }
        let host = String(rest[..<colon])
        return host.isEmpty ? nil : (host, port)
    }

    /// The gRPC server implementations `Check` can be served by.
    package enum GRPCServerKind: String, Sendable {
        /// ``UnaryGRPCServer``: unary calls on NIOHTTP2 directly, decided inline.
        case lean
        /// grpc-swift-2's `GRPCServer` (kept to measure against).
        case grpcSwift = "grpc-swift"
    }

    static func isHTTPURL(_ text: String) -> Bool {
        (text.hasPrefix("http://") || text.hasPrefix("https://")) && !text.contains(" ")
    }

    /// The key sources of ``KeyRing``: the built-in issuer (access tokens and internal keys), then the external ones.
    package var keySources: [KeyRing.Source] {
        [KeyRing.Source(url: jwksURL, role: .builtIn(issuer: issuer, internalKeyIssuer: internalKeyIssuer))]
            + externalIssuers.map { KeyRing.Source(url: $0.jwksURL, role: .external(issuer: $0.issuer)) }
            + apiKeyIssuers.map { KeyRing.Source(url: $0.jwksURL, role: .apiKey(issuer: $0.issuer)) }
    }
}
