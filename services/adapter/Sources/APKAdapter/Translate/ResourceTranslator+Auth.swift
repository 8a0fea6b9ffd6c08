import APKAuthPlan
import APKModel

// The security part of stage 1: the API-level plan from the policies attached to the API, and the specs a rule's
// `ExtensionRef` filters name. A missing or unreadable security resource never means "no security": the API (or the
// operation) is left out and the status says why.
extension ResourceTranslator.Context {
    /// The API-level plan from the `Authentication`s and `APIPolicy`s whose `targetRef` is the API; nil (and a
    /// problem) when it cannot be built.
    mutating func apiAuthPlan(api: String, spec: APISpec) -> APIAuthPlan? {
        guard let authentications = attachedSpecs(AuthenticationSpec.self, kind: CRKind.authentication, api: api),
            let policies = attachedSpecs(APIPolicySpec.self, kind: CRKind.apiPolicy, api: api)
        else { return nil }
        // The deployer writes one per environment with the same content; different contents are ambiguous.
        let distinct = authentications.reduce(into: [AuthenticationSpec]()) { if !$0.contains($1) { $0.append($1) } }
        guard distinct.count <= 1 else {
            problems.append(
                "\(distinct.count) different Authentications target the API; the API is not served until one remains")
            return nil
        }
        // A backend JWT is part of what the API promises its backend: a BackendJWT that cannot be read or honoured
        // leaves the API out (never served without the header its backend may rely on).
        let backendJWTNames = Set(policies.compactMap { $0.default.backendJwtPolicy?.name })
        guard backendJWTNames.count <= 1 else {
            problems.append("its APIPolicies name \(backendJWTNames.count) different BackendJWTs; the API is not served")
            return nil
        }
        var backendJWT: BackendJWTPlan?
        if let name = backendJWTNames.first {
            guard let jwtSpec = extensionSpec(
                BackendJWTSpec.self, HTTPRouteSpec.ExtensionRef(group: "dp.wso2.com", kind: CRKind.backendJWT.rawValue, name: name),
                in: "APIPolicy backend JWT", consequence: "the API is not served")
            else { return nil }
            do throws(AuthPlanError) {
                backendJWT = try BackendJWTPlan(
                    spec: jwtSpec, apiName: spec.apiName, apiContext: spec.basePath, apiVersion: spec.apiVersion)
            } catch {
                problems.append("security: \(error.message); the API is not served")
                return nil
            }
        }
        let policy = policies.first { $0.default.subscriptionValidation == true } ?? policies.first
        do throws(AuthPlanError) {
            var plan = try AuthPlanBuilder.api(
                id: api, organization: spec.organization, authentication: distinct.first, policy: policy)
            plan.backendJWT = backendJWT
            return plan
        } catch {
            problems.append("security: \(error.message); the API is not served")
            return nil
        }
    }

    /// The allow-lists of an API with subscription validation, from every `Application`, `Subscription` and
    /// `ApplicationMapping` of the namespace (read as a whole: any change to one translates such APIs again). An
    /// unreadable one is skipped with a problem (it grants nothing; the API stays served for the others).
    mutating func subscribers(spec: APISpec) -> [KeyType: SubscriptionAllowList] {
        func all<Spec: Decodable>(_ type: Spec.Type, _ kind: CRKind) -> [Subscribers.Resource<Spec>] {
            references.insert(.all(kind.rawValue))
            return lookup.ofKind(kind.rawValue).compactMap { resource in
                guard let value = resource.spec, let spec = try? JSONValueCoding.decode(Spec.self, from: value) else {
                    problems.append("\(kind.rawValue) \(resource.name) has an unreadable spec; it grants no access")
                    return nil
                }
                return Subscribers.Resource(name: resource.name, spec: spec)
            }
        }
        return Subscribers.allowLists(
            organization: spec.organization, apiName: spec.apiName, apiVersion: spec.apiVersion,
            environment: spec.environment, applications: all(ApplicationSpec.self, .application),
            subscriptions: all(SubscriptionSpec.self, .subscription),
            mappings: all(ApplicationMappingSpec.self, .applicationMapping))
    }

    /// The `TokenIssuer`s that serve the API's organization and environment (read as a whole: any change to one
    /// translates the secured APIs again), sorted by name. One that cannot be used is skipped with a problem: it
    /// trusts nothing, and the API stays served with the others (tokens of that issuer are refused).
    mutating func tokenIssuers(spec: APISpec) -> [ResolvedTokenIssuer] {
        references.insert(.all(CRKind.tokenIssuer.rawValue))
        var found: [ResolvedTokenIssuer] = []
        for resource in lookup.ofKind(CRKind.tokenIssuer.rawValue) {
            guard let value = resource.spec, let issuerSpec = try? JSONValueCoding.decode(TokenIssuerSpec.self, from: value)
            else {
                if resource.spec?["organization"]?.stringValue == spec.organization {
                    problems.append("TokenIssuer \(resource.name) has an unreadable spec; its tokens are refused")
                }
                continue
            }
            guard issuerSpec.organization == spec.organization else { continue }
            do throws(AuthPlanError) {
                let issuer = try ResolvedTokenIssuer(name: resource.name, spec: issuerSpec)
                guard issuer.serves(organization: spec.organization, environment: spec.environment) else { continue }
                guard !defaults.reservedIssuers.contains(issuer.plan.issuer) else {
                    problems.append(
                        "TokenIssuer \(resource.name) names the issuer \(issuer.plan.issuer), one of the gateway's own; it is not used")
                    continue
                }
                found.append(issuer)
            } catch {
                problems.append("\(error.message); its tokens are refused")
            }
        }
        return found
    }

    /// The API-level `RateLimitPolicy` specs (`targetRef` the API; operations name theirs by `ExtensionRef`); nil
    /// (and a problem) when one is unreadable.
    mutating func attachedRateLimits(api: String) -> [RateLimitPolicySpec]? {
        attachedSpecs(RateLimitPolicySpec.self, kind: CRKind.rateLimitPolicy, api: api)
    }

    /// The decoded specs of the `kind` resources attached to `api` (recorded as references); nil when one is
    /// unreadable.
    private mutating func attachedSpecs<Spec: Decodable>(_ type: Spec.Type, kind: CRKind, api: String) -> [Spec]? {
        references.insert(.targeting(kind.rawValue, api: api))
        var specs: [Spec] = []
        for resource in lookup.targeting(kind.rawValue, api) {
            references.insert(ReferenceKey(kind: kind.rawValue, name: resource.name))
            guard let value = resource.spec, let spec = try? JSONValueCoding.decode(Spec.self, from: value) else {
                problems.append("\(kind.rawValue) \(resource.name) has an unreadable spec; the API is not served")
                return nil
            }
            specs.append(spec)
        }
        return specs
    }

    /// The spec of the resource an `ExtensionRef` filter names; nil (and a problem) when it is missing or unreadable.
    /// `consequence`: what the problem says is left out.
    mutating func extensionSpec<Spec: Decodable>(
        _ type: Spec.Type, _ ref: HTTPRouteSpec.ExtensionRef, in where_: String, consequence: String = "the rule is not served"
    ) -> Spec? {
        let key = ReferenceKey(kind: ref.kind, name: ref.name)
        references.insert(key)
        guard let resource = lookup.resource(key) else {
            problems.append("\(where_): \(ref.kind) \(ref.name) does not exist; \(consequence)")
            return nil
        }
        guard let value = resource.spec, let spec = try? JSONValueCoding.decode(Spec.self, from: value) else {
            problems.append("\(where_): \(ref.kind) \(ref.name) has an unreadable spec; \(consequence)")
            return nil
        }
        return spec
    }
}
