import APKAuthPlan
package import APKModel
import Foundation

/// Stage 1: stored CRs → ``APIIR`` for one API. Pure: everything it reads comes through `lookup`, and the same input
/// always gives the same output (golden-tested in `APKAdapterTests`).
///
/// What is read: the `API` CR; the `HTTPRoute`s named by its `production`/`sandbox` route refs; the `Backend`s named
/// by the rules' backend refs (and mirror filters); for upstream TLS, the `ConfigMap`/`Secret` a Backend points to;
/// for security, the `Authentication`s and `APIPolicy`s attached to the API by `targetRef` and the `Authentication`
/// and `Scope` extension refs of each rule (``APKAuthPlan``). Security that cannot be built means the API is not
/// served (never served without it).
/// A missing or unreadable piece leaves out only what depends on it and is reported in
/// ``APITranslation/problems`` (which the adapter writes into the API's status).
package struct ResourceTranslator: Sendable {
    /// Finds resources of the watched namespace.
    package typealias Lookup = ResourceLookup

    package var defaults: Defaults

    /// Values used when a Backend leaves them out (contract §6 defaults).
    package struct Defaults: Sendable, Hashable {
        package var upstreamResponseTimeoutSeconds = 15
        package var downstreamRequestIdleTimeoutSeconds = 300
        package var circuitBreaker = BackendIR.CircuitBreaker(
            maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3)
        /// `iss` values of the gateway's own issuers (trusted for every API): a `TokenIssuer` naming one is not used,
        /// so that one `iss` never has two sets of keys and claim rules.
        package var reservedIssuers: Set<String> = []

        package init() {}
    }

    package init(defaults: Defaults = Defaults()) {
        self.defaults = defaults
    }

    /// Translates the API CR `api` (of `namespace`).
    package func translate(api: K8sResource, namespace: String, lookup: Lookup) -> APITranslation {
        var context = Context(namespace: namespace, lookup: lookup, defaults: defaults)
        context.references.insert(ReferenceKey(kind: CRKind.api.rawValue, name: api.name))
        let result = context.translateAPI(api)
        return APITranslation(api: result, problems: context.problems, references: context.references)
    }

    /// Accumulates references and problems while translating one API.
    struct Context {
        let namespace: String
        let lookup: Lookup
        let defaults: Defaults
        var problems: [String] = []
        var references: Set<ReferenceKey> = []
        var backends: [String: BackendIR] = [:]
        var failedBackends: Set<String> = []

        /// The API-level security plan and the API's spec (set before the routes are translated).
        var authPlan: APIAuthPlan?
        var apiSpec: APISpec?

        init(namespace: String, lookup: Lookup, defaults: Defaults) {
            self.namespace = namespace
            self.lookup = lookup
            self.defaults = defaults
        }

        mutating func translateAPI(_ api: K8sResource) -> APIIR? {
            guard let specValue = api.spec, let spec = try? JSONValueCoding.decode(APISpec.self, from: specValue) else {
                problems.append("the API spec is missing or unreadable")
                return nil
            }
            guard spec.apiType.uppercased() == "REST" else {
                problems.append("API type \(spec.apiType) is not served by the gateway yet (REST only)")
                return nil
            }
            guard Self.isValidBasePath(spec.basePath) else {
                problems.append("base path \"\(spec.basePath)\" is not a valid path (^/[a-zA-Z0-9~/_.-]*$)")
                return nil
            }
            guard var auth = apiAuthPlan(api: api.name, spec: spec) else { return nil }
            var issuers: [ResolvedTokenIssuer] = []
            if !auth.disabled, auth.credentials.contains(where: \.isAccessToken) {
                issuers = tokenIssuers(spec: spec)
                auth.issuers = issuers.isEmpty ? nil : issuers.map(\.plan)
            }
            authPlan = auth
            apiSpec = spec
            // The API-level quota: one that cannot be read or honoured leaves the API out (never served without it).
            var apiRateLimit: RateLimitIR?
            if let limits = attachedRateLimits(api: api.name) {
                let distinct = Set(limits)
                guard distinct.count <= 1 else {
                    problems.append("\(distinct.count) different RateLimitPolicies target the API; the API is not served")
                    return nil
                }
                if let limit = distinct.first {
                    guard let ir = RateLimitIR(spec: limit, descriptor: "api:\(api.name)") else {
                        problems.append("its RateLimitPolicy is not a positive count per Second, Minute, Hour or Day; the API is not served")
                        return nil
                    }
                    apiRateLimit = ir
                }
            } else {
                return nil
            }
            var environments: [EnvironmentIR] = []
            for (kind, refs) in [(EnvironmentIR.Kind.production, spec.production), (.sandbox, spec.sandbox)] {
                let names = (refs ?? []).flatMap(\.routeRefs)
                guard !names.isEmpty else { continue }
                if let environment = translateEnvironment(kind, routeNames: names) {
                    environments.append(environment)
                }
            }
            if environments.isEmpty {
                problems.append("no routable environment: the API has no usable HTTPRoute")
            }
            return APIIR(
                id: api.name, namespace: namespace, name: spec.apiName, version: spec.apiVersion,
                organization: spec.organization, basePath: spec.basePath, isDefaultVersion: spec.isDefaultVersion,
                environments: environments, backends: backends.values.sorted { $0.cluster < $1.cluster }, auth: auth,
                subscribers: auth.subscriptionValidation && !auth.disabled ? subscribers(spec: spec) : nil,
                tokenIssuers: issuers.isEmpty ? nil : issuers, rateLimit: apiRateLimit,
                environment: (spec.environment?.isEmpty ?? true) ? nil : spec.environment)
        }

        mutating func translateEnvironment(_ kind: EnvironmentIR.Kind, routeNames: [String]) -> EnvironmentIR? {
            var hostnames: Set<String> = []
            var routes: [RouteIR] = []
            let environment = kind.rawValue.lowercased()
            for routeName in routeNames {
                let key = ReferenceKey(kind: "HTTPRoute", name: routeName)
                references.insert(key)
                guard let resource = lookup.resource(key) else {
                    problems.append("HTTPRoute \(routeName) (\(environment)) does not exist")
                    continue
                }
                guard let value = resource.spec, let spec = try? JSONValueCoding.decode(HTTPRouteSpec.self, from: value)
                else {
                    problems.append("HTTPRoute \(routeName) has an unreadable spec")
                    continue
                }
                let valid = spec.hostnames.filter(Self.isValidHostname)
                for invalid in spec.hostnames where !Self.isValidHostname(invalid) {
                    problems.append("HTTPRoute \(routeName): hostname \"\(invalid)\" is not a valid host name")
                }
                hostnames.formUnion(valid)
                for (ruleIndex, rule) in spec.rules.enumerated() {
                    routes += translateRule(rule, route: routeName, index: ruleIndex, environment: environment)
                }
            }
            guard !hostnames.isEmpty, !routes.isEmpty else {
                if hostnames.isEmpty, !routes.isEmpty { problems.append("\(environment): no hostnames") }
                return nil
            }
            // More specific paths first (contract §5.2: rules sorted by path value, descending); stable.
            let ordered = routes.enumerated().sorted {
                $0.element.pathRegex != $1.element.pathRegex ? $0.element.pathRegex > $1.element.pathRegex : $0.offset < $1.offset
            }.map(\.element)
            return EnvironmentIR(kind: kind, hostnames: hostnames.sorted(), routes: ordered)
        }

        mutating func translateRule(
            _ rule: HTTPRouteSpec.Rule, route routeName: String, index: Int, environment: String
        ) -> [RouteIR] {
            let where_ = "HTTPRoute \(routeName) rule \(index + 1)"
            var rewrite: String?
            var redirect: RouteIR.Redirect?
            var requestHeaders: RouteIR.HeaderChanges?
            var responseHeaders: RouteIR.HeaderChanges?
            var mirror: String?
            var authentications: [AuthenticationSpec] = []
            var scopes: [ScopeSpec] = []
            var backendJWT: BackendJWTPlan?
            var rateLimit: RateLimitPolicySpec?
            var rateLimitName = ""
            for filter in rule.filters ?? [] {
                switch filter.type {
                case "URLRewrite":
                    guard let path = filter.urlRewrite?.path, path.type == "ReplaceFullPath" else {
                        problems.append("\(where_): only ReplaceFullPath URL rewrites are supported")
                        return []
                    }
                    rewrite = path.replaceFullPath
                case "RequestHeaderModifier":
                    requestHeaders = filter.requestHeaderModifier.flatMap(Self.headerChanges)
                case "ResponseHeaderModifier":
                    responseHeaders = filter.responseHeaderModifier.flatMap(Self.headerChanges)
                case "RequestMirror":
                    if let ref = filter.requestMirror?.backendRef, let backend = backend(named: ref.name, in: where_) {
                        mirror = backend.cluster
                    }
                case "RequestRedirect":
                    if let r = filter.requestRedirect {
                        let status = r.statusCode ?? 302
                        guard [301, 302, 303, 307, 308].contains(status) else {
                            problems.append("\(where_): redirect status \(status) is not a redirect code")
                            return []
                        }
                        redirect = RouteIR.Redirect(
                            scheme: r.scheme, hostname: r.hostname, port: r.port,
                            path: r.path?.replaceFullPath, statusCode: status)
                    }
                case "ExtensionRef":
                    guard let ref = filter.extensionRef else {
                        problems.append("\(where_): an ExtensionRef filter without extensionRef; the rule is not served")
                        return []
                    }
                    switch ref.kind {
                    case CRKind.authentication.rawValue:
                        guard let spec = extensionSpec(AuthenticationSpec.self, ref, in: where_) else { return [] }
                        authentications.append(spec)
                    case CRKind.scope.rawValue:
                        guard let spec = extensionSpec(ScopeSpec.self, ref, in: where_) else { return [] }
                        scopes.append(spec)
                    case CRKind.apiPolicy.rawValue:
                        guard let spec = extensionSpec(APIPolicySpec.self, ref, in: where_) else { return [] }
                        if let name = spec.default.backendJwtPolicy?.name {
                            // The operation's own backend JWT: never served without it.
                            guard let jwtSpec = extensionSpec(
                                BackendJWTSpec.self,
                                HTTPRouteSpec.ExtensionRef(group: CRKind.apkGroup, kind: CRKind.backendJWT.rawValue, name: name),
                                in: where_),
                                let api = apiSpec
                            else { return [] }
                            do throws(AuthPlanError) {
                                backendJWT = try BackendJWTPlan(
                                    spec: jwtSpec, apiName: api.apiName, apiContext: api.basePath, apiVersion: api.apiVersion)
                            } catch {
                                problems.append("\(where_): \(error.message); the rule is not served")
                                return []
                            }
                        }
                        continue  // interceptors: not built yet (the route is served without them)
                    case CRKind.rateLimitPolicy.rawValue:
                        // The operation's own quota: never served without it.
                        guard let spec = extensionSpec(RateLimitPolicySpec.self, ref, in: where_) else { return [] }
                        guard rateLimit == nil || rateLimit == spec else {
                            problems.append("\(where_): two different RateLimitPolicies; the rule is not served")
                            return []
                        }
                        (rateLimit, rateLimitName) = (spec, ref.name)
                    default:
                        continue
                    }
                default:
                    problems.append("\(where_): filter type \(filter.type) is not supported; the filter is ignored")
                }
            }
            var forward: RouteIR.Forward?
            if redirect == nil {
                let refs = (rule.backendRefs ?? []).filter { $0.kind == "Backend" }
                guard let ref = refs.first else {
                    problems.append("\(where_): no Backend reference")
                    return []
                }
                if refs.count > 1 {
                    problems.append("\(where_): \(refs.count) backends referenced; only \(ref.name) receives traffic")
                }
                guard let backend = backend(named: ref.name, in: where_) else { return [] }
                let spec = backendSpecs[ref.name]
                forward = RouteIR.Forward(
                    cluster: backend.cluster,
                    rewrite: rewrite.map { Self.joinPath(backend.basePath, $0) },
                    hostRewrite: backend.host,
                    timeoutSeconds: spec?.timeout?.upstreamResponseTimeout ?? defaults.upstreamResponseTimeoutSeconds,
                    idleTimeoutSeconds: spec?.timeout?.downstreamRequestIdleTimeout
                        ?? defaults.downstreamRequestIdleTimeoutSeconds,
                    retry: spec?.retry.map {
                        RouteIR.Retry(
                            attempts: $0.count, baseIntervalMillis: $0.baseIntervalMillis,
                            statusCodes: $0.statusCodes.isEmpty ? [504] : $0.statusCodes)
                    })
            }
            var routes: [RouteIR] = []
            for (matchIndex, match) in rule.matches.enumerated() {
                let auth: OperationAuthPlan
                do throws(AuthPlanError) {
                    auth = try AuthPlanBuilder.operation(
                        target: match.path.value, authentications: authentications, scopes: scopes, backendJWT: backendJWT)
                } catch {
                    problems.append("\(where_): \(error.message); the operation is not served")
                    continue
                }
                guard let regex = Self.pathRegex(match.path) else {
                    problems.append("\(where_): path match type \(match.path.type) is not supported")
                    continue
                }
                let method = match.method?.uppercased()
                if let method, !Self.isToken(method) {
                    problems.append("\(where_): \"\(method)\" is not an HTTP method")
                    continue
                }
                var limit: RateLimitIR?
                if let rateLimit {
                    let descriptor = "op:\(authPlan?.apiID ?? ""):\(environment):\(method ?? "ALL"):\(rateLimitName)"
                    guard let ir = RateLimitIR(spec: rateLimit, descriptor: descriptor) else {
                        problems.append(
                            "\(where_): RateLimitPolicy \(rateLimitName) is not a positive count per Second, Minute, Hour or Day; the operation is not served")
                        continue
                    }
                    limit = ir
                }
                routes.append(
                    RouteIR(
                        name: "\(environment)/\(routeName)/\(index + 1)/\(matchIndex + 1)", method: method,
                        pathRegex: regex,
                        pathSegment: ScopedRouting.pathSegment(matchType: match.path.type, value: match.path.value),
                        operation: "\(method ?? "*") \(match.path.value)",
                        forward: forward, redirect: redirect, requestHeaders: requestHeaders,
                        responseHeaders: responseHeaders, mirrorCluster: mirror, auth: auth, rateLimit: limit))
            }
            return routes
        }

        /// Backend specs read so far (for timeouts and retries of the routes that use them).
        var backendSpecs: [String: BackendSpec] = [:]

        mutating func backend(named name: String, in where_: String) -> BackendIR? {
            if let known = backends[name] { return known }
            if failedBackends.contains(name) { return nil }
            let key = ReferenceKey(kind: "Backend", name: name)
            references.insert(key)
            guard let resource = lookup.resource(key) else {
                failedBackends.insert(name)
                problems.append("\(where_): Backend \(name) does not exist")
                return nil
            }
            guard let value = resource.spec, let spec = try? JSONValueCoding.decode(BackendSpec.self, from: value) else {
                failedBackends.insert(name)
                problems.append("Backend \(name) has an unreadable spec")
                return nil
            }
            guard let backend = makeBackend(name: name, spec: spec) else {
                failedBackends.insert(name)
                return nil
            }
            backends[name] = backend
            backendSpecs[name] = spec
            return backend
        }

        mutating func makeBackend(name: String, spec: BackendSpec) -> BackendIR? {
            guard spec.services.count == 1, let service = spec.services.first else {
                problems.append("Backend \(name) must have exactly one service (has \(spec.services.count))")
                return nil
            }
            guard Self.isValidHostname(service.host), (1...65535).contains(service.port) else {
                problems.append("Backend \(name): \(service.host):\(service.port) is not a valid host and port")
                return nil
            }
            var tls: BackendIR.TLS?
            switch spec.protocol.lowercased() {
            case "http", "ws":
                tls = nil
            case "https", "wss":
                var trustedCA: String?
                if let inline = spec.tls?.certificateInline, !inline.isEmpty {
                    trustedCA = inline
                } else if let ref = spec.tls?.configMapRef {
                    guard let pem = configValue(kind: "ConfigMap", ref.name, ref.key, backend: name) else { return nil }
                    trustedCA = pem
                } else if let ref = spec.tls?.secretRef {
                    guard let pem = configValue(kind: "Secret", ref.name, ref.key, backend: name) else { return nil }
                    trustedCA = pem
                }
                if let ca = trustedCA, !ca.contains("-----BEGIN CERTIFICATE-----") {
                    problems.append("Backend \(name): the TLS certificate is not a PEM certificate")
                    return nil
                }
                tls = BackendIR.TLS(trustedCA: trustedCA, allowedSANs: spec.tls?.allowedSANs ?? [], sni: service.host)
            default:
                problems.append("Backend \(name): protocol \(spec.protocol) is not supported (http, https, ws, wss)")
                return nil
            }
            let cb = spec.circuitBreaker.map {
                BackendIR.CircuitBreaker(
                    maxConnections: $0.maxConnections, maxPendingRequests: $0.maxPendingRequests,
                    maxRequests: $0.maxRequests, maxRetries: $0.maxRetries)
            }
            return BackendIR(
                cluster: "\(namespace)/\(name)", host: service.host, port: service.port, tls: tls,
                basePath: spec.basePath ?? "", circuitBreaker: cb ?? defaults.circuitBreaker,
                healthCheck: spec.healthCheck.map {
                    BackendIR.HealthCheck(
                        timeoutSeconds: $0.timeout, intervalSeconds: $0.interval,
                        unhealthyThreshold: $0.unhealthyThreshold, healthyThreshold: $0.healthyThreshold)
                })
        }

        /// `data[key]` of a ConfigMap, or of a Secret (base64-decoded).
        mutating func configValue(kind: String, _ name: String, _ key: String, backend: String) -> String? {
            let ref = ReferenceKey(kind: kind, name: name)
            references.insert(ref)
            guard let resource = lookup.resource(ref), case .string(let raw)? = resource.body["data"]?.objectValue?[key] else {
                problems.append("Backend \(backend): \(kind) \(name) has no key \(key)")
                return nil
            }
            if kind == "Secret" {
                guard let data = Data(base64Encoded: raw) else {
                    problems.append("Backend \(backend): Secret \(name) key \(key) is not base64")
                    return nil
                }
                return String(decoding: data, as: UTF8.self)
            }
            return raw
        }

        static func headerChanges(_ modifier: HTTPRouteSpec.HeaderModifier) -> RouteIR.HeaderChanges? {
            guard !modifier.isEmpty else { return nil }
            return RouteIR.HeaderChanges(
                set: (modifier.set ?? []).map { RouteIR.Header(name: $0.name.lowercased(), value: $0.value) },
                add: (modifier.add ?? []).map { RouteIR.Header(name: $0.name.lowercased(), value: $0.value) },
                remove: (modifier.remove ?? []).map { $0.lowercased() })
        }

        /// The path regex relative to the base path: RegularExpression as written, PathPrefix and Exact quoted.
        static func pathRegex(_ match: HTTPRouteSpec.PathMatch) -> String? {
            switch match.type {
            case "RegularExpression": match.value
            case "PathPrefix": RegexQuoting.quote(match.value == "/" ? "" : match.value) + "((?:/.*)*)"
            case "Exact": RegexQuoting.quote(match.value)
            default: nil
            }
        }

        /// Backend base path + rewrite, without a doubled slash.
        static func joinPath(_ base: String, _ rewrite: String) -> String {
            var base = base
            while base.hasSuffix("/") { base.removeLast() }
            return base + rewrite
        }

        static func isValidBasePath(_ path: String) -> Bool {
            path.hasPrefix("/") && path.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "~"), UInt8(ascii: "/"), UInt8(ascii: "_"),
                    UInt8(ascii: "."), UInt8(ascii: "-"):
                    true
                default: false
                }
            }
        }

        /// A DNS name or IPv4 address, optionally with one leading `*.` label (no ports, no spaces).
        static func isValidHostname(_ host: String) -> Bool {
            var name = Substring(host)
            if name.hasPrefix("*.") { name = name.dropFirst(2) }
            guard !name.isEmpty, name.count <= 253, !name.hasPrefix("."), !name.hasSuffix("."), !name.contains("..")
            else { return false }
            return name.split(separator: ".").allSatisfy { label in
                label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
            }
        }

        /// An HTTP token (method names).
        static func isToken(_ text: String) -> Bool {
            !text.isEmpty && text.count <= 32 && text.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || $0 == 0x2D || $0 == 0x5F }
        }
    }
}

/// RE2 quoting of literal text.
package enum RegexQuoting {
    /// Escapes every RE2 metacharacter in `text`.
    package static func quote(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            if "\\.+*?()|[]{}^$".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
