import APKModel
import Foundation

extension BundleContext {
    // MARK: scopes

    /// One Scope CR per distinct scope name, as the reference numbers them: operations are visited as their rules
    /// are built (every operation with a production rule, then those with a sandbox rule), and a scope not seen
    /// before becomes `sha1(apiID + target + verb)-scope-<n>`, n counting from 1 the Scopes this operation creates.
    mutating func addScopes() throws(APKError) {
        for environment in DeploymentEnvironment.allCases {
            for operation in conf.operations where !endpoints(of: operation, in: environment).1.isEmpty {
                var created = 0
                for scope in operation.scopes ?? [] where scopeResources[scope] == nil {
                    created += 1
                    let name = "\(Hashing.sha1(apiID + operation.target + operation.verb))-scope-\(created)"
                    scopeResources[scope] = try add(.scope, kind: .scope, name: name, spec: ScopeSpec(names: [scope]))
                }
            }
        }
    }

    // MARK: API-level policies

    /// API-level RateLimitPolicy and APIPolicy (interceptors, backend JWT, CORS, subscription validation, AI).
    mutating func addAPILevelPolicies() throws(APKError) {
        if let rateLimit = conf.rateLimit {
            let spec = RateLimitPolicySpec(default: .init(api: .init(requestsPerUnit: rateLimit.requestsPerUnit, unit: rateLimit.unit.rawValue)),
                                           targetRef: .api(apiID))
            try add(.rateLimitPolicy, kind: .rateLimitPolicy, name: "api-0-\(apiID)", spec: spec)
        }
        var details = try policyDetails(conf.apiPolicies, operation: nil)
        if let cors = conf.corsConfiguration {
            details.cORSPolicy = .init(
                enabled: cors.corsConfigurationEnabled, accessControlAllowCredentials: cors.accessControlAllowCredentials,
                accessControlAllowHeaders: cors.accessControlAllowHeaders, accessControlAllowMethods: cors.accessControlAllowMethods,
                accessControlAllowOrigins: cors.accessControlAllowOrigins, accessControlExposeHeaders: cors.accessControlExposeHeaders,
                accessControlMaxAge: cors.accessControlAllowMaxAge)
        }
        if conf.subscriptionValidation { details.subscriptionValidation = true }
        if let provider = conf.aiProvider { details.aiProvider = NameRef(Self.aiProviderResource(provider.name)) }
        if details != APIPolicySpec.Details() {
            // The reference's APIPolicy targets the API in group dp.wso2.com (its other policies use
            // gateway.networking.k8s.io).
            try add(.apiPolicy, kind: .apiPolicy, name: "\(apiID)-api-policy",
                    spec: APIPolicySpec(default: details, targetRef: TargetRef(group: CRKind.apkGroup, kind: "API", name: apiID)))
        }
    }

    static func aiProviderResource(_ name: String) -> String {
        switch name {
        case "OpenAI": "ai-provider-open-ai"
        case "AzureAI": "ai-provider-azure-ai"
        case "MistralAI": "ai-provider-mistral-ai"
        default: name
        }
    }

    // MARK: operation-level policies (names referenced from route rules)

    /// Adds the operation's RateLimitPolicy if it has one; returns its name.
    mutating func addOperationRateLimit(_ operation: ApkConf.Operation) throws(APKError) -> String? {
        guard let rateLimit = operation.rateLimit else { return nil }
        let spec = RateLimitPolicySpec(default: .init(api: .init(requestsPerUnit: rateLimit.requestsPerUnit, unit: rateLimit.unit.rawValue)),
                                       targetRef: .resource(apiID))
        return try add(.rateLimitPolicy, kind: .rateLimitPolicy, name: "resource-0-\(operationHash(operation))-\(apiID)", spec: spec)
    }

    /// Adds the operation's APIPolicy when its policies need one (interceptors, backend JWT); returns its name.
    mutating func addOperationPolicy(_ operation: ApkConf.Operation) throws(APKError) -> String? {
        let details = try policyDetails(operation.operationPolicies, operation: operation)
        guard details != APIPolicySpec.Details() else { return nil }
        return try add(.apiPolicy, kind: .apiPolicy, name: "\(apiID)-\(operationHash(operation))-resource-policy",
                       spec: APIPolicySpec(default: details, targetRef: .resource(apiID)))
    }

    /// Interceptor, BackendJwt and ModelBasedRoundRobin policies → APIPolicy details (and their own CRs).
    private mutating func policyDetails(_ policies: Policies?, operation: ApkConf.Operation?) throws(APKError) -> APIPolicySpec.Details {
        var details = APIPolicySpec.Details()
        let level = operation == nil ? "api" : "resource"
        let stem = operation.map { "\(apiHash)-\(operationHash($0))" } ?? apiHash
        for (direction, list) in [("request", policies?.request ?? []), ("response", policies?.response ?? [])] {
            for policy in list {
                switch policy.policyName {
                case .interceptor:
                    let name = try addInterceptor(policy, direction: direction, stem: stem, level: level)
                    if direction == "request" { details.requestInterceptors = [NameRef(name)] } else { details.responseInterceptors = [NameRef(name)] }
                case .backendJwt:
                    let name = "\(stem)--\(level)-backend-jwt-policy"
                    let claims = policy.parameters?["customClaims"]?.arrayValue?.compactMap { claim -> BackendJWTSpec.Claim? in
                        guard let key = claim["claim"]?.stringValue, let value = claim["value"]?.stringValue else { return nil }
                        return .init(claim: key, value: value, type: claim["type"]?.stringValue ?? "string")
                    }
                    let spec = BackendJWTSpec(encoding: policy.string("encoding") ?? "Base64",
                                              signingAlgorithm: policy.string("signingAlgorithm") ?? "SHA256withRSA",
                                              header: policy.string("header") ?? "X-JWT-Assertion",
                                              tokenTTL: policy.int("tokenTTL") ?? 3600, customClaims: claims)
                    details.backendJwtPolicy = NameRef(try add(.backendJWT, kind: .backendJWT, name: name, spec: spec))
                case .modelBasedRoundRobin:
                    details.modelBasedRoundRobin = try modelRoundRobin(policy)
                case .addHeader, .setHeader, .removeHeader, .requestMirror, .requestRedirect:
                    continue  // route filters, see BundleContext+Routes
                }
            }
        }
        return details
    }

    private mutating func addInterceptor(_ policy: Policy, direction: String, stem: String, level: String) throws(APKError) -> String {
        let url = policy.string("backendUrl") ?? ""
        var tls: BackendSpec.TLS?
        if let secret = policy.string("tlsSecretName"), let key = policy.string("tlsSecretKey") {
            // As for endpoint certificates, the reference reads the certificate from a ConfigMap despite the names.
            tls = .init(configMapRef: KeyRef(name: secret, key: key))
        }
        let backend = try addPolicyBackend(url: url, purpose: "interceptor", tls: tls)
        var includes: [String] = []
        if policy.bool("headersEnabled") == true { includes.append("\(direction)_headers") }
        if policy.bool("bodyEnabled") == true { includes.append("\(direction)_body") }
        if policy.bool("trailersEnabled") == true { includes.append("\(direction)_trailers") }
        if policy.bool("contextEnabled") == true { includes.append("invocation_context") }
        let name = "\(direction)-interceptor-service-0-\(stem)-\(level)"
        let spec = InterceptorServiceSpec(backendRef: NameRef(backend), includes: includes)
        return try add(.interceptorService, kind: .interceptorService, name: name, spec: spec)
    }

    private mutating func modelRoundRobin(_ policy: Policy) throws(APKError) -> APIPolicySpec.ModelBasedRoundRobin {
        func models(_ key: String) throws(APKError) -> [APIPolicySpec.ModelBasedRoundRobin.Model] {
            var result: [APIPolicySpec.ModelBasedRoundRobin.Model] = []
            for entry in policy.parameters?[key]?.arrayValue ?? [] {
                guard let model = entry["model"]?.stringValue, let url = entry["endpoint"]?.stringValue else { continue }
                let backend = try addPolicyBackend(url: url, purpose: "model")
                result.append(.init(model: model, backendRef: NameRef(backend), weight: entry["weight"]?.intValue))
            }
            return result
        }
        let sandbox = try models("sandboxModels")
        return .init(onQuotaExceedSuspendDuration: policy.int("onQuotaExceedSuspendDuration") ?? 0,
                     productionModels: try models("productionModels"), sandboxModels: sandbox.isEmpty ? nil : sandbox)
    }

    // MARK: authentication

    /// The API-level Authentication of one environment, when the apk-conf has an `authentication` list (§5.2).
    mutating func addAuthentication(for environment: DeploymentEnvironment) throws(APKError) {
        guard let blocks = conf.authentication else { return }
        var types = AuthenticationSpec.AuthTypes()
        for block in blocks {
            switch block.authType {
            case .oauth2:
                types.oauth2 = .init(header: block.headerName ?? "Authorization", sendTokenToUpstream: block.sendTokenToUpstream ?? false,
                                     disabled: !block.enabled, required: block.required ?? "mandatory")
            case .jwt:
                types.jwt = .init(header: block.headerName ?? "Authorization", sendTokenToUpstream: block.sendTokenToUpstream ?? false,
                                  disabled: !block.enabled, audience: block.audience ?? [])
            case .apiKey where block.enabled:
                var keys: [AuthenticationSpec.APIKey.Key] = []
                let upstream = block.sendTokenToUpstream ?? false
                if block.headerEnable ?? true { keys.append(.init(in: "Header", name: block.headerName ?? "apiKey", sendTokenToUpstream: upstream)) }
                if block.queryParamEnable ?? false { keys.append(.init(in: "Query", name: block.queryParamName ?? "apiKey", sendTokenToUpstream: upstream)) }
                types.apiKey = .init(required: block.required ?? "optional", keys: keys)
            case .apiKey:
                continue
            case .mtls:
                types.mtls = .init(disabled: !block.enabled, required: block.required ?? "optional",
                                   configMapRefs: block.certificates?.map { KeyRef(name: $0.name, key: $0.key) })
            }
        }
        let spec = AuthenticationSpec(default: .init(disabled: false, authTypes: types), targetRef: .api(apiID))
        try add(.authentication, kind: .authentication, name: "\(apiHash)-\(environment.rawValue)-authentication", spec: spec)
    }

    /// The "no authentication" Authentication of one environment, referenced from unsecured operations' rules.
    mutating func addNoAuthentication(for environment: DeploymentEnvironment) throws(APKError) -> String {
        let spec = AuthenticationSpec(default: .init(disabled: true), targetRef: TargetRef(group: "", kind: "Resource", name: apiID))
        return try add(.authentication, kind: .authentication, name: "\(apiHash)-\(environment.rawValue)-no-authentication", spec: spec)
    }
}
