package import APKAuthPlan
package import APKModel

// The adapter's intermediate representation: what one API means for the gateway, independent of Envoy.
//
// Stage 1 (`ResourceTranslator`) builds one `APIIR` per API CR from the stored CRs; stage 2 (`XDSTranslator`) turns
// IR into Envoy resources. Every type here is a plain value with a stable JSON form (golden files), field order =
// declaration order.

/// One API as the gateway serves it: its environments (production / sandbox), each with hostnames and routes, and
/// the upstream clusters its routes use.
package struct APIIR: Sendable, Hashable, Codable {
    /// The API CR name (the API id of the REST API).
    package var id: String
    package var namespace: String
    package var name: String
    package var version: String
    package var organization: String
    /// The API's base path including the version (`/http-bin-api/1.0.8`).
    package var basePath: String
    /// Also served without the version segment (routes appended after all versioned routes).
    package var isDefaultVersion: Bool
    package var environments: [EnvironmentIR]
    /// Upstreams referenced by the routes, sorted by name.
    package var backends: [BackendIR]
    /// What every request must present (API-level `Authentication` / `APIPolicy`); each route has its own
    /// ``RouteIR/auth``.
    package var auth: APIAuthPlan
    /// With subscription validation: who may call it, per key type (``Subscribers``); nil otherwise.
    package var subscribers: [KeyType: SubscriptionAllowList]?
    /// The `TokenIssuer`s of its organization and environment, with their keys (``APIAuthPlan/issuers`` carries
    /// the rest); nil: none, only the gateway's own issuers.
    package var tokenIssuers: [ResolvedTokenIssuer]?
    /// The API-level quota (shared by production and sandbox and by every operation); nil: none.
    package var rateLimit: RateLimitIR?
    /// The API CR's environment; nil: `Default` (the ratelimiter's rule sets are per environment).
    package var environment: String?

    package init(id: String, namespace: String, name: String, version: String, organization: String, basePath: String,
                 isDefaultVersion: Bool, environments: [EnvironmentIR], backends: [BackendIR], auth: APIAuthPlan,
                 subscribers: [KeyType: SubscriptionAllowList]? = nil, tokenIssuers: [ResolvedTokenIssuer]? = nil,
                 rateLimit: RateLimitIR? = nil, environment: String? = nil) {
        self.id = id
        self.namespace = namespace
        self.name = name
        self.version = version
        self.organization = organization
        self.basePath = basePath
        self.isDefaultVersion = isDefaultVersion
        self.environments = environments
        self.backends = backends
        self.auth = auth
        self.subscribers = subscribers
        self.tokenIssuers = tokenIssuers
        self.rateLimit = rateLimit
        self.environment = environment
    }
}

/// Production or sandbox: separate hostnames, so separate virtual hosts.
package struct EnvironmentIR: Sendable, Hashable, Codable {
    package enum Kind: String, Sendable, Hashable, Codable {
        case production = "PRODUCTION"
        case sandbox = "SANDBOX"
    }

    package var kind: Kind
    /// Hostnames from the HTTPRoutes (`default.gw.wso2.com`, …), sorted, without duplicates.
    package var hostnames: [String]
    /// Routes in match order.
    package var routes: [RouteIR]

    package init(kind: Kind, hostnames: [String], routes: [RouteIR]) {
        self.kind = kind
        self.hostnames = hostnames
        self.routes = routes
    }
}

/// One operation match: method + path regex relative to the API base path, and what to do with the request.
package struct RouteIR: Sendable, Hashable, Codable {
    /// Unique within the API: `<environment>/<httproute>/<rule>/<match>`.
    package var name: String
    /// Upper-case HTTP method; nil matches every method.
    package var method: String?
    /// The HTTPRoute path regex relative to the base path (`/employee/(.*)`, `(.*)`).
    package var pathRegex: String
    /// The first path segment of every path the match accepts (`pets` for `/pets/{id}`), nil when there is none:
    /// the router's scope of the route when the API's base path is the root (see ``ScopedRouting``).
    package var pathSegment: String?
    /// The operation as shown in metadata and logs: `GET /employee/(.*)`.
    package var operation: String
    /// Exactly one of `forward` and `redirect` is set.
    package var forward: Forward?
    package var redirect: Redirect?
    /// Headers to set/add/remove on the request and the response (HTTPRoute header modifier filters).
    package var requestHeaders: HeaderChanges?
    package var responseHeaders: HeaderChanges?
    /// Cluster that receives a copy of every request (HTTPRoute RequestMirror).
    package var mirrorCluster: String?
    /// The operation's security (`secured`, scopes) from the rule's `Authentication` / `Scope` extension refs.
    package var auth: OperationAuthPlan
    /// The operation's own quota (counted per environment and method); nil: none.
    package var rateLimit: RateLimitIR? = nil

    /// Forward to `cluster`; `rewrite` is the substitution for the matched path (Backend base path + URLRewrite).
    package struct Forward: Sendable, Hashable, Codable {
        package var cluster: String
        /// Full substitution (`/anything/employee/\1`); nil keeps the path.
        package var rewrite: String?
        /// Backend `Host` rewrite (the Backend's host).
        package var hostRewrite: String
        package var timeoutSeconds: Int
        package var idleTimeoutSeconds: Int
        package var retry: Retry?
    }

    package struct Retry: Sendable, Hashable, Codable {
        package var attempts: Int
        package var baseIntervalMillis: Int
        package var statusCodes: [Int]
    }

    /// Answer with a redirect (HTTPRoute RequestRedirect).
    package struct Redirect: Sendable, Hashable, Codable {
        package var scheme: String?
        package var hostname: String?
        package var port: Int?
        package var path: String?
        package var statusCode: Int
    }

    package struct HeaderChanges: Sendable, Hashable, Codable {
        package var set: [Header]
        package var add: [Header]
        package var remove: [String]
    }

    package struct Header: Sendable, Hashable, Codable {
        package var name: String
        package var value: String
    }
}

/// A request quota (`RateLimitPolicy`, contract §8): `requestsPerUnit` per fixed window of `unit` (UTC-aligned),
/// counted by the ratelimiter under `descriptor` (the route's `apk.rule` descriptor value).
package struct RateLimitIR: Sendable, Hashable, Codable {
    package enum Unit: String, Sendable, Hashable, Codable, CaseIterable {
        case second = "Second", minute = "Minute", hour = "Hour", day = "Day"
    }

    package var requestsPerUnit: Int
    package var unit: Unit
    /// `api:<api id>` for an API-level quota (one counter for the whole API); `op:<api id>:<environment>:<method or
    /// ALL>:<policy name>` for an operation's (one counter per environment and method).
    package var descriptor: String

    /// From a `RateLimitPolicy` spec; nil when the limit is not a positive count per a known unit.
    package init?(spec: RateLimitPolicySpec, descriptor: String) {
        let limit = spec.default.api
        guard limit.requestsPerUnit > 0, limit.requestsPerUnit <= Int(UInt32.max),
            let unit = Unit.allCases.first(where: { $0.rawValue.lowercased() == limit.unit.lowercased() })
        else { return nil }
        self.requestsPerUnit = limit.requestsPerUnit
        self.unit = unit
        self.descriptor = descriptor
    }
}

/// One upstream (Backend CR): an Envoy cluster.
package struct BackendIR: Sendable, Hashable, Codable {
    /// Cluster name: `<namespace>/<backend name>`.
    package var cluster: String
    package var host: String
    package var port: Int
    /// Present for `https`/`wss` backends.
    package var tls: TLS?
    package var basePath: String
    package var circuitBreaker: CircuitBreaker
    package var healthCheck: HealthCheck?

    package struct TLS: Sendable, Hashable, Codable {
        /// PEM CA bundle to trust; nil = the system trust store.
        package var trustedCA: String?
        /// Subject alternative names the server certificate must carry (exact DNS names); empty = host name check
        /// only through SNI.
        package var allowedSANs: [String]
        package var sni: String
    }

    package struct CircuitBreaker: Sendable, Hashable, Codable {
        package var maxConnections: Int
        package var maxPendingRequests: Int
        package var maxRequests: Int
        package var maxRetries: Int
    }

    package struct HealthCheck: Sendable, Hashable, Codable {
        package var timeoutSeconds: Int
        package var intervalSeconds: Int
        package var unhealthyThreshold: Int
        package var healthyThreshold: Int
    }
}

/// The result of translating one API: the IR when it can be served, and what was wrong otherwise.
package struct APITranslation: Sendable, Hashable {
    /// nil when the API cannot be served at all.
    package var api: APIIR?
    /// Problems found (missing HTTPRoute or Backend, unsupported API type, …); non-empty `problems` with a non-nil
    /// `api` means the API is served partially (the broken parts are left out).
    package var problems: [String]
    /// Every stored resource the translation read (to retranslate when one of them changes).
    package var references: Set<ReferenceKey>

    package init(api: APIIR?, problems: [String], references: Set<ReferenceKey>) {
        self.api = api
        self.problems = problems
        self.references = references
    }
}

/// A (kind, name) reference inside the watched namespace.
package struct ReferenceKey: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    package var kind: String
    package var name: String

    package init(kind: String, name: String) {
        self.kind = kind
        self.name = name
    }

    package static func < (lhs: ReferenceKey, rhs: ReferenceKey) -> Bool { (lhs.kind, lhs.name) < (rhs.kind, rhs.name) }
    package var description: String { "\(kind)/\(name)" }
}
