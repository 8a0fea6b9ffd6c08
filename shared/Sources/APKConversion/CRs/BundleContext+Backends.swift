import APKModel
import Foundation

extension BundleContext {
    /// Where an endpoint is defined: names get `-api` or `-resource` (§5.2).
    enum EndpointLevel: String { case api, resource }

    /// The endpoints an operation uses in one environment: its own for that environment, else the API's.
    func endpoints(of operation: ApkConf.Operation, in environment: DeploymentEnvironment) -> (EndpointLevel, [EndpointConfiguration]) {
        let own = operation.endpointConfigurations?.endpoints(for: environment) ?? []
        if !own.isEmpty { return (.resource, own) }
        return (.api, conf.endpointConfigurations?.endpoints(for: environment) ?? [])
    }

    /// Adds (once) the Backend for an endpoint and returns its name.
    ///
    /// The name hashes the organization, API, environment and the endpoint's whole configuration, so identical
    /// endpoints share one Backend and a redeploy of the same apk-conf yields the same names.
    mutating func addBackend(_ endpoint: EndpointConfiguration, level: EndpointLevel, environment: DeploymentEnvironment)
        throws(APKError) -> String
    {
        let canonical = DocumentWriter.json((try? JSONValueCoding.encode(endpoint)) ?? .null)
        let name = "backend-\(Hashing.sha1("\(organization)-\(conf.name)-\(conf.version)-\(environment.rawValue)-\(canonical)"))-\(level.rawValue)"
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

    func backendSpec(for endpoint: EndpointConfiguration) throws(APKError) -> BackendSpec {
        var spec: BackendSpec
        switch endpoint.endpoint {
        case .url(let url):
            let parsed = try Self.parse(url: url)
            spec = BackendSpec(services: [.init(host: parsed.host, port: parsed.port)], protocol: parsed.scheme,
                               basePath: parsed.path.isEmpty ? nil : parsed.path)
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
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        return ParsedURL(scheme: scheme, host: host.lowercased(), port: port, path: path)
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
