import APKModel
import Foundation

extension BundleContext {
    /// Builds the HTTPRoutes of one environment and their Backends and policies; returns the route names for the
    /// API CR, empty when no operation has an endpoint in this environment.
    ///
    /// As the reference: all operations are cut into chunks of 8 in apk-conf order, then each chunk keeps the
    /// operations with an endpoint in this environment; a chunk left empty gives no route but keeps its number, so
    /// route `-<n>` always holds operations `8(n−1)+1 … 8n` whatever the environment.
    mutating func addRoutes(for environment: DeploymentEnvironment) throws(APKError) -> [String] {
        let chunkSize = CRBundleBuilder.operationsPerRoute
        var chunks: [(number: Int, rules: [HTTPRouteSpec.Rule])] = []
        for (index, start) in stride(from: 0, to: conf.operations.count, by: chunkSize).enumerated() {
            var rules: [HTTPRouteSpec.Rule] = []
            for operation in conf.operations[start..<min(start + chunkSize, conf.operations.count)] {
                let (level, endpoints) = endpoints(of: operation, in: environment)
                guard !endpoints.isEmpty else { continue }
                rules.append(try rule(for: operation, level: level, endpoints: endpoints, environment: environment))
            }
            if !rules.isEmpty { chunks.append((index + 1, rules)) }
        }
        guard !chunks.isEmpty else { return [] }
        try addAuthentication(for: environment)
        let category: Category = environment == .production ? .productionRoute : .sandboxRoute
        var names: [String] = []
        for chunk in chunks {
            // Stable sort, longest (most specific) path value first, as the reference orders rules.
            let sorted = chunk.rules.enumerated().sorted { lhs, rhs in
                let l = lhs.element.matches.first?.path.value ?? ""
                let r = rhs.element.matches.first?.path.value ?? ""
                return l != r ? l > r : lhs.offset < rhs.offset
            }.map(\.element)
            let spec = HTTPRouteSpec(
                hostnames: hostnames(for: environment),
                parentRefs: [.init(group: CRKind.gatewayGroup, kind: "Gateway", name: options.gatewayName, sectionName: options.listenerSection)],
                rules: sorted)
            let name = "\(apiID)-\(environment.rawValue)-httproute-\(chunk.number)"
            names.append(try add(category, kind: .httpRoute, name: name, spec: spec))
        }
        return names
    }

    private mutating func rule(for operation: ApkConf.Operation, level: EndpointLevel, endpoints: [EndpointConfiguration],
                               environment: DeploymentEnvironment) throws(APKError) -> HTTPRouteSpec.Rule {
        var filters = try routeFilters(for: operation)
        let redirects = filters.contains { $0.type == "RequestRedirect" }
        if !redirects { filters.append(.rewrite(PathTemplate.rewrite(for: operation.target))) }
        if !operation.secured {
            filters.append(.extensionRef(kind: "Authentication", name: try addNoAuthentication(for: environment)))
        }
        for scope in operation.scopes ?? [] {
            if let name = scopeResources[scope] { filters.append(.extensionRef(kind: "Scope", name: name)) }
        }
        if let name = try addOperationRateLimit(operation) { filters.append(.extensionRef(kind: "RateLimitPolicy", name: name)) }
        if let name = try addOperationPolicy(operation) { filters.append(.extensionRef(kind: "APIPolicy", name: name)) }
        var backendRefs: [HTTPRouteSpec.BackendRef]?
        if !redirects {
            var refs: [HTTPRouteSpec.BackendRef] = []
            for endpoint in endpoints {
                let name = try addBackend(endpoint, level: level, environment: environment)
                refs.append(.backend(name, weight: endpoint.weight))
            }
            backendRefs = refs
        }
        let match = HTTPRouteSpec.Match(path: .init(type: "RegularExpression", value: PathTemplate.matchRegex(for: operation.target)),
                                        method: operation.verb)
        return HTTPRouteSpec.Rule(matches: [match], filters: filters.isEmpty ? nil : filters, backendRefs: backendRefs)
    }

    /// Header modifiers, mirrors and a redirect from API-level then operation-level policies, merged: for the same
    /// header the operation's entry wins; an operation redirect replaces an API one.
    private mutating func routeFilters(for operation: ApkConf.Operation) throws(APKError) -> [HTTPRouteSpec.Filter] {
        var request = HeaderEdits()
        var response = HeaderEdits()
        var mirrors: [String] = []
        var redirect: Policy?
        for policy in (conf.apiPolicies?.request ?? []) + (operation.operationPolicies?.request ?? []) {
            switch policy.policyName {
            case .requestMirror: mirrors += policy.parameters?["urls"]?.arrayValue?.compactMap(\.stringValue) ?? []
            case .requestRedirect: redirect = policy
            default: request.apply(policy)
            }
        }
        for policy in (conf.apiPolicies?.response ?? []) + (operation.operationPolicies?.response ?? []) {
            response.apply(policy)
        }
        var filters: [HTTPRouteSpec.Filter] = []
        if let modifier = request.modifier {
            var filter = HTTPRouteSpec.Filter(type: "RequestHeaderModifier")
            filter.requestHeaderModifier = modifier
            filters.append(filter)
        }
        if let modifier = response.modifier {
            var filter = HTTPRouteSpec.Filter(type: "ResponseHeaderModifier")
            filter.responseHeaderModifier = modifier
            filters.append(filter)
        }
        var seenMirrors: Set<String> = []
        for url in mirrors where seenMirrors.insert(url).inserted {
            var filter = HTTPRouteSpec.Filter(type: "RequestMirror")
            filter.requestMirror = .init(backendRef: .backend(try addPolicyBackend(url: url, purpose: "mirror")))
            filters.append(filter)
        }
        if let redirect { filters.append(try redirectFilter(redirect)) }
        return filters
    }

    private func redirectFilter(_ policy: Policy) throws(APKError) -> HTTPRouteSpec.Filter {
        let url = try Self.parse(url: policy.string("url") ?? "")
        let explicitPort = URLComponents(string: policy.string("url") ?? "")?.port
        var filter = HTTPRouteSpec.Filter(type: "RequestRedirect")
        filter.requestRedirect = .init(scheme: url.scheme, hostname: url.host, port: explicitPort,
                                       path: .init(type: "ReplaceFullPath", replaceFullPath: url.path.isEmpty ? "/" : url.path),
                                       statusCode: policy.int("statusCode") ?? 302)
        return filter
    }
}

/// Accumulates header policies in order; a later entry for the same header replaces an earlier one.
private struct HeaderEdits {
    private var set: [HTTPRouteSpec.Header] = []
    private var add: [HTTPRouteSpec.Header] = []
    private var remove: [String] = []

    mutating func apply(_ policy: Policy) {
        guard let name = policy.string("headerName") else { return }
        let lower = name.lowercased()
        set.removeAll { $0.name.lowercased() == lower }
        add.removeAll { $0.name.lowercased() == lower }
        remove.removeAll { $0.lowercased() == lower }
        switch policy.policyName {
        case .addHeader: add.append(.init(name: name, value: policy.string("headerValue") ?? ""))
        case .setHeader: set.append(.init(name: name, value: policy.string("headerValue") ?? ""))
        case .removeHeader: remove.append(name)
        default: break
        }
    }

    var modifier: HTTPRouteSpec.HeaderModifier? {
        let modifier = HTTPRouteSpec.HeaderModifier(set: set.isEmpty ? nil : set, add: add.isEmpty ? nil : add,
                                                    remove: remove.isEmpty ? nil : remove)
        return modifier.isEmpty ? nil : modifier
    }
}
