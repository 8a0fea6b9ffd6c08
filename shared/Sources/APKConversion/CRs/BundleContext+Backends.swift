import APKModel
import Foundation

extension BundleContext {
    /// Where an endpoint is defined: names get `-api` or `-resource` (§5.2).
    enum EndpointLevel: String { case api, resource }

    /// The endpoints an operation uses in one environment: the API's, unless the operation has its own
    /// `endpointConfigurations` — then only those, as the reference builds rules (an operation with only a production
    /// endpoint of its own gets no sandbox rule, even when the API has a sandbox endpoint).
    func endpoints(of operation: ApkConf.Operation, in environment: DeploymentEnvironment) -> (EndpointLevel, [EndpointConfiguration]) {
        if let own = operation.endpointConfigurations { return (.resource, own.endpoints(for: environment)) }
        return (.api, conf.endpointConfigurations?.endpoints(for: environment) ?? [])
    }

    /// Adds (once) the Backend for an endpoint and returns its name.
    ///
    /// API level: the reference's name, `backend-sha1("<org>-<name>-<version>-<environment>-<host>-<path>")-api`
    /// with host and path as written in the URL (its `getHost`/`getPath`), so tooling keyed on those names keeps
    /// working; two endpoints of one environment that differ only in what the name leaves out (port, scheme,
    /// security, TLS, resiliency) would share it, so they are refused (the reference silently keeps the last one).
    /// Operation level (ours; the reference uses a random UUID): a hash of the endpoint's whole configuration, so a
    /// redeploy of the same apk-conf yields the same names.
    mutating func addBackend(_ endpoint: EndpointConfiguration, level: EndpointLevel, environment: DeploymentEnvironment)
        throws(APKError) -> String
    {
        let canonical = DocumentWriter.json((try? JSONValueCoding.encode(endpoint)) ?? .null)
        let name: String
        switch level {
        case .api:
            let url = endpointURL(endpoint.endpoint)
            let stem = [organization, conf.name, conf.version, environment.rawValue, Self.referenceHost(url), Self.referencePath(url)]
            name = "backend-\(Hashing.sha1(stem.joined(separator: "-")))-api"
            if let previous = apiBackendConfigurations[name], previous != canonical {
                throw .invalidApkConf([ValidationIssue(
                    pointer: "#/endpointConfigurations/\(environment.rawValue)",
                    message: "two \(environment.rawValue) endpoints have the same host and path but different settings; "
                        + "APK names their Backend by host and path, so only one of them could be used")])
            }
            apiBackendConfigurations[name] = canonical
        case .resource:
            name = "backend-\(Hashing.sha1("\(organization)-\(conf.name)-\(conf.version)-\(environment.rawValue)-\(canonical)"))-resource"
        }
        let spec = try backendSpec(for: endpoint)
        try add(.backend, kind: .backend, name: name, spec: spec)
        if let ai = endpoint.aiRatelimit, ai.enabled ?? true {
            try addAIRateLimitPolicy(ai, backend: name, environment: environment)
        }
        return name
    }

    /// Adds (once) a Backend for a plain URL used by a policy (interceptor, mirror, AI model) and returns its name.
    mutating func addPolicyBackend(url: String, purpose: String, tls: BackendSpec.TLS? = nil) throws(APKError) -> String {
        let name = "backend-\(Hashing.sha1("\(organization)-\(conf.name)-\(conf.version)-\(purpose)-\(url)"))-\(purpose)"
        var spec = try backendSpec(for: EndpointConfiguration(endpoint: .url(url)))
        if let tls, spec.protocol == "https" { spec.tls = tls }
        try add(.backend, kind: .backend, name: name, spec: spec)
        return name
    }

    /// The URL of an endpoint; a Kubernetes Service as the reference spells it (`<protocol>://<name>.<namespace>
    /// .svc.cluster.local:<port>`).
    func endpointURL(_ endpoint: EndpointConfiguration.Endpoint) -> String {
        switch endpoint {
        case .url(let url): url
        case .service(let service):
            "\(service.protocol ?? "http")://\(service.name).\(service.namespace ?? options.namespace ?? "default").svc.cluster.local:\(service.port)"
        }
    }

    /// The reference's `getHost`: after `http://` or `https://`, the text up to the first `:`, else up to the first
    /// `/`; "" for other schemes. Case kept.
    static func referenceHost(_ url: String) -> String {
        guard let rest = afterScheme(url) else { return "" }
        if let colon = rest.firstIndex(of: ":") { return String(rest[..<colon]) }
        if let slash = rest.firstIndex(of: "/") { return String(rest[..<slash]) }
        return String(rest)
    }

    /// The reference's `getPath`: after `http://` or `https://`, everything from the first `/` (trailing slash and
    /// query kept); "" when there is none or for other schemes.
    static func referencePath(_ url: String) -> String {
        guard let rest = afterScheme(url), let slash = rest.firstIndex(of: "/") else { return "" }
        return String(rest[slash...])
    }

    private static func afterScheme(_ url: String) -> Substring? {
        for prefix in ["https://", "http://"] where url.hasPrefix(prefix) { return url.dropFirst(prefix.count) }
        return nil
    }

    func backendSpec(for endpoint: EndpointConfiguration) throws(APKError) -> BackendSpec {
        var spec: BackendSpec
        switch endpoint.endpoint {
        case .url(let url):
            let parsed = try Self.parse(url: url)
            // basePath as written, trailing slash kept and "" when there is none, as the reference (its test
            // expects `/v1/` for `https://backend-prod-test/v1/`); the adapter joins it without doubling a slash.
            spec = BackendSpec(services: [.init(host: parsed.host, port: parsed.port)], protocol: parsed.scheme,
                               basePath: parsed.path)
        case .service(let service):
            let namespace = service.namespace ?? options.namespace ?? "default"
            spec = BackendSpec(services: [.init(host: "\(service.name).\(namespace).svc.cluster.local", port: service.port)],
                               protocol: service.protocol ?? "http")
        }
        if let certificate = endpoint.certificate, spec.protocol == "https" || spec.protocol == "wss" {
            // The reference maps the certificate to a ConfigMap reference despite the field names (§13 quirk 7).
            spec.tls = .init(configMapRef: KeyRef(name: certificate.secretName, key: certificate.secretKey))
        }
        if let security = endpoint.endpointSecurity, security.enabled == true, let type = security.securityType {
            spec.security = Self.security(type)
        }
        if let resiliency = endpoint.resiliency {
            if let timeout = resiliency.timeout {
                spec.timeout = .init(upstreamResponseTimeout: timeout.upstreamResponseTimeout ?? 15,
                                     downstreamRequestIdleTimeout: timeout.downstreamRequestIdleTimeout ?? 300)
            }
            if let retry = resiliency.retryPolicy {
                spec.retry = .init(count: retry.count ?? 1, baseIntervalMillis: retry.baseIntervalMillis ?? 25,
                                   statusCodes: retry.statusCodes ?? [504])
            }
            if let breaker = resiliency.circuitBreaker {
                spec.circuitBreaker = .init(maxConnectionPools: breaker.maxConnectionPools,
                                            maxConnections: breaker.maxConnections ?? 1024,
                                            maxPendingRequests: breaker.maxPendingRequests ?? 1024,
                                            maxRequests: breaker.maxRequests ?? 1024, maxRetries: breaker.maxRetries ?? 3)
            }
        }
        return spec
    }

    private static func security(_ type: EndpointConfiguration.SecurityType) -> BackendSpec.Security {
        if let user = type.userNameKey, let password = type.passwordKey {
            return .init(basic: .init(secretRef: .init(name: type.secretName, usernameKey: user, passwordKey: password)))
        }
        return .init(apiKey: .init(in: type.in ?? "Header", name: type.apiKeyNameKey ?? "",
                                   valueFrom: .init(name: type.secretName, valueKey: type.apiKeyValueKey ?? "")))
    }

    struct ParsedURL: Equatable {
        var scheme: String
        var host: String
        var port: Int
        var path: String
    }

    /// Splits an endpoint URL into Backend fields; the port defaults to 80/443 (§4.3).
    static func parse(url: String) throws(APKError) -> ParsedURL {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            ["http", "https", "ws", "wss"].contains(scheme), let host = components.host, !host.isEmpty
        else { throw .generationFailed("endpoint [\(url.prefix(200))] is not an http(s) URL") }
        let port = components.port ?? (scheme == "https" || scheme == "wss" ? 443 : 80)
        guard (1...65535).contains(port) else { throw .generationFailed("endpoint [\(url.prefix(200))] has an invalid port") }
        return ParsedURL(scheme: scheme, host: host, port: port, path: components.percentEncodedPath)
    }

    /// Named `sha1("<org>-<name><version><environment>")`: the reference hashes only name, version and environment, so
    /// two organizations' APIs with the same name and version would share (and delete) one policy.
    mutating func addAIRateLimitPolicy(_ ai: EndpointConfiguration.AIRatelimit, backend: String,
                                       environment: DeploymentEnvironment) throws(APKError) {
        let spec = AIRateLimitPolicySpec(
            default: .init(
                organization: organization,
                tokenCount: .init(unit: ai.token.unit, requestTokenCount: ai.token.promptLimit,
                                  responseTokenCount: ai.token.completionLimit, totalTokenCount: ai.token.totalLimit),
                requestCount: .init(requestsPerUnit: ai.request.requestLimit, unit: ai.request.unit)),
            targetRef: TargetRef(group: CRKind.apkGroup, kind: "Backend", name: backend))
        try add(.aiRateLimitPolicy, kind: .aiRateLimitPolicy,
                name: Hashing.sha1("\(organization)-" + conf.name + conf.version + environment.rawValue), spec: spec)
    }
}
