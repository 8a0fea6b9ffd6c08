import APKAuthPlan
import APKAuth
import APKModel
package import EnvoyProtos
import Foundation
import SwiftProtobuf

// The gateway's security compiled into Envoy's native filters (docs/enforcer-design.md), so that a secured request
// makes no call to Swift:
//   - `jwt_authn`: one provider per credential location (OAuth2 `Bearer` on each configured header, internal keys on
//     `internal-key`), verified payloads in dynamic metadata (`apk_token`, `apk_internal_key`); routes name a
//     requirement (`requires_any` of the API's credentials) or disable the filter (unsecured operations);
//   - `rbac` per route: an OAuth2 token with every scope of the operation, or an internal key of this API and
//     environment;
//   - local reply mappers that turn the filters' replies into the §7.6 bodies (see ``AuthReplies``).
// The same plan is evaluated by ``AuthEvaluator`` in Swift; both must give the same answers.
extension XDSTranslator {
    static let jwtFilterName = "envoy.filters.http.jwt_authn"
    static let rbacFilterName = "envoy.filters.http.rbac"
    /// Dynamic-metadata keys (namespace `envoy.filters.http.jwt_authn`) of the verified payloads.
    static let tokenMetadataKey = "apk_token"
    static let internalKeyMetadataKey = "apk_internal_key"
    static let internalKeyProvider = "apk-internal-key"
    static let jwtMetadataKey = "apk_jwt"
    static let apiKeyMetadataKey = "apk_api_key"
    static let headerMutationFilterName = "envoy.filters.http.header_mutation"
    /// Route metadata (`apk` namespace) read by the 900910 local reply: the operation, JSON-escaped.
    static let denialTargetKey = "denial_target"

    static func oauth2Provider(_ header: String) -> String { "apk-oauth2/\(header)" }
    /// The provider of external issuer number `index` (``XDSSettings/Auth/externalIssuers``) on `header`.
    static func oauth2Provider(_ header: String, external index: Int) -> String { "apk-oauth2/\(header)/\(index + 1)" }
    /// The cluster Envoy fetches external issuer number `index`'s JWKS through.
    static func jwksCluster(_ index: Int) -> String { "apk-system/jwks/\(index + 1)" }
    /// The cluster of API-key issuer number `index` (``XDSSettings/Auth/apiKeyIssuers``).
    static func apiKeyJWKSCluster(_ index: Int) -> String { "apk-system/apikey-jwks/\(index + 1)" }

    /// The JWT auth type's providers on `header`: the built-in issuer's, then external issuer `index`'s.
    static func jwtProvider(_ header: String, external index: Int? = nil) -> String {
        "apk-jwt/\(header)" + (index.map { "/\($0 + 1)" } ?? "")
    }

    /// The label of an API-key location, and its provider for API-key issuer `index`.
    static func apiKeyLabel(_ location: APIKeyLocation) -> String {
        switch location {
        case .header(let name): "apk-apikey/header/\(name)"
        case .query(let name): "apk-apikey/query/\(name)"
        }
    }

    /// The name of the `jwt_authn` requirement a route with these credentials and organization issuers uses (one per
    /// distinct pair among the served APIs, see ``jwtAuthentication(requirements:settings:)``).
    static func requirementName(_ credentials: [Credential], issuers: [PlanIssuer]? = nil) -> String {
        let base = credentials.map { credential in
            switch credential {
            case .oauth2(let header, _): oauth2Provider(header)
            case .jwt(let header, _, _): jwtProvider(header)
            case .apiKey(let location, _): apiKeyLabel(location)
            case .internalKey: internalKeyProvider
            }
        }.joined(separator: "+")
        guard let issuers, !issuers.isEmpty else { return base }
        return base + "@" + issuers.map(\.id).joined(separator: ",")
    }

    /// The providers that verify one credential: one per trusted issuer (the gateway's, then the organization's).
    static func providerNames(_ credential: Credential, issuers: [PlanIssuer], settings: XDSSettings) -> [String] {
        gatewayProviderNames(credential, settings: settings) + issuers.compactMap { organizationProvider(credential, $0) }
    }

    static func gatewayProviderNames(_ credential: Credential, settings: XDSSettings) -> [String] {
        switch credential {
        case .oauth2(let header, _):
            [oauth2Provider(header)] + settings.auth.externalIssuers.indices.map { oauth2Provider(header, external: $0) }
        case .jwt(let header, _, _):
            [jwtProvider(header)] + settings.auth.externalIssuers.indices.map { jwtProvider(header, external: $0) }
        case .apiKey(let location, _): settings.auth.apiKeyIssuers.indices.map { "\(apiKeyLabel(location))/\($0 + 1)" }
        case .internalKey: [internalKeyProvider]
        }
    }

    /// The gateway's security filters before the router: in `native` mode `jwt_authn` (its configuration delivered
    /// by ECDS, ``jwtAuthentication(requirements:settings:)``, so a deploy never rewrites a listener), `rbac` and,
    /// with an enforcer, the backend-JWT stage; in `enforcer` mode one ext_authz filter.
    static func authFilters(
        settings: XDSSettings, encoder: ProtoEncoder
    ) throws -> [Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter] {
        if case .enforcer = settings.auth.enforcement, let link = settings.auth.enforcer {
            return [try enforcerFilter(link, settings: settings, encoder: encoder), try subscriptionFilter(encoder: encoder)]
        }
        var jwtFilter = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        jwtFilter.name = jwtFilterName  // also the ECDS resource name
        var discovery = Envoy_Config_Core_V3_ExtensionConfigSource()
        discovery.configSource.ads = Envoy_Config_Core_V3_AggregatedConfigSource()
        discovery.configSource.resourceApiVersion = .v3
        discovery.typeUrls = [jwtAuthenticationTypeURL]
        // No default: until the first configuration arrives the listener warms (never serves unverified).
        jwtFilter.configDiscovery = discovery
        // No global rules: only routes with an RBACPerRoute are checked.
        var rbacFilter = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        rbacFilter.name = rbacFilterName
        rbacFilter.typedConfig = try AnyPacking.pack(Envoy_Extensions_Filters_Http_Rbac_V3_RBAC(), encoder: encoder)
        // Per route only: removes query API keys that are not sent upstream (after the filters that read them).
        var mutationFilter = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        mutationFilter.name = headerMutationFilterName
        mutationFilter.typedConfig = try AnyPacking.pack(Envoy_Extensions_Filters_Http_HeaderMutation_V3_HeaderMutation(), encoder: encoder)
        let subscriptions = try subscriptionFilter(encoder: encoder)
        // After `rbac` and the subscription stage: only requests the native filters allowed get a backend JWT, on
        // backend-JWT routes only.
        switch (settings.auth.backendJWTStage, settings.auth.enforcer) {
        case (.lua, _):
            return [jwtFilter, rbacFilter, subscriptions, try backendJWTLuaFilter(encoder: encoder), mutationFilter]
        case (.extAuthz, let link?):
            return [jwtFilter, rbacFilter, subscriptions, try backendJWTFilter(link, settings: settings, encoder: encoder), mutationFilter]
        case (.extAuthz, nil):
            return [jwtFilter, rbacFilter, subscriptions, mutationFilter]
        }
    }

    static let jwtAuthenticationTypeURL = "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication"

    /// `jwt_authn`'s configuration for the credential lists of every served API (each API's routes name the
    /// requirement of its list): a provider per issuer and credential location in use, and a requirement per list
    /// (`requires_any` of its providers). Changes only when a deploy brings a list no served API had.
    static func jwtAuthentication(
        requirements: Set<JWTRequirement>, settings: XDSSettings
    ) -> Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtAuthentication {
        var jwt = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtAuthentication()
        // The internal-key provider always exists (the filter needs at least one, and it is fixed).
        var internalKey = baseProvider(issuer: settings.auth.internalKeyIssuer, settings: settings)
        var location = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtHeader()
        location.name = AuthPlanBuilder.internalKeyHeader
        internalKey.fromHeaders = [location]
        internalKey.audiences = [AuthPlanBuilder.internalKeyAudience]
        // Kept for the stages after `rbac` (the backend-JWT stage reads it); every secured route removes it before
        // the upstream, so it never reaches a backend.
        internalKey.forward = true
        internalKey.payloadInMetadata = internalKeyMetadataKey
        jwt.providers[internalKeyProvider] = internalKey
        for credential in Set(requirements.flatMap(\.credentials)) {
            switch credential {
            case .jwt(let header, _, _):
                // Raw tokens of the access-token issuers; the audience is checked per API by its routes' RBAC.
                func jwtTypeProvider(_ base: Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtProvider) -> Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtProvider {
                    var provider = base
                    var location = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtHeader()
                    location.name = header
                    provider.fromHeaders = [location]
                    provider.forward = true  // removed per route when the API does not send it upstream
                    provider.payloadInMetadata = jwtMetadataKey
                    return provider
                }
                jwt.providers[jwtProvider(header)] = jwtTypeProvider(baseProvider(issuer: settings.auth.issuer, settings: settings))
                for (index, external) in settings.auth.externalIssuers.enumerated() {
                    var base = baseProvider(issuer: external.issuer, settings: settings)
                    base.remoteJwks = remoteJwks(cluster: jwksCluster(index), issuer: external, settings: settings)
                    jwt.providers[jwtProvider(header, external: index)] = jwtTypeProvider(base)
                }
                for issuer in organizationIssuers(requirements, using: credential) {
                    jwt.providers["\(jwtProvider(header))/\(issuer.plan.id)"] =
                        jwtTypeProvider(organizationBaseProvider(issuer, settings: settings))
                }
                continue
            case .apiKey(let location, _):
                for (index, issuer) in settings.auth.apiKeyIssuers.enumerated() {
                    var provider = baseProvider(issuer: issuer.issuer, settings: settings)
                    provider.remoteJwks = remoteJwks(cluster: apiKeyJWKSCluster(index), issuer: issuer, settings: settings)
                    switch location {
                    case .header(let name):
                        var header = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtHeader()
                        header.name = name
                        provider.fromHeaders = [header]
                    case .query(let name):
                        provider.fromParams = [name]
                    }
                    provider.forward = true  // removed per route when the API does not send it upstream
                    provider.payloadInMetadata = apiKeyMetadataKey
                    provider.claimToHeaders = [
                        claimToHeader(SubscriptionHeaders.authenticated, "iss"),
                        claimToHeader(SubscriptionHeaders.application, "application.uuid"),
                    ]
                    jwt.providers["\(apiKeyLabel(location))/\(index + 1)"] = provider
                }
                continue
            case .internalKey: continue
            case .oauth2: break
            }
            guard case .oauth2(let header, _) = credential else { continue }
            func accessTokenProvider(
                _ base: Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtProvider, profile: PlanIssuer? = nil
            ) -> Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtProvider {
                var provider = base
                var location = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtHeader()
                location.name = header
                location.valuePrefix = "Bearer "
                provider.fromHeaders = [location]
                provider.forward = true  // removed per route when the API does not send it upstream
                provider.payloadInMetadata = tokenMetadataKey
                // For the subscription stage (removed before the upstream on every secured route).
                provider.claimToHeaders = [
                    claimToHeader(SubscriptionHeaders.authenticated, "iss"),
                    claimToHeader(SubscriptionHeaders.consumerKey, profile?.consumerKey ?? SubscriptionHeaders.consumerKeyClaim),
                ]
                var normalize = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtProvider.NormalizePayload()
                normalize.spaceDelimitedClaims = [profile?.scopes ?? AuthEvaluator.scopesClaim]
                provider.normalizePayloadInMetadata = normalize
                return provider
            }
            jwt.providers[oauth2Provider(header)] = accessTokenProvider(baseProvider(issuer: settings.auth.issuer, settings: settings))
            for (index, external) in settings.auth.externalIssuers.enumerated() {
                var base = baseProvider(issuer: external.issuer, settings: settings)
                base.remoteJwks = remoteJwks(cluster: jwksCluster(index), issuer: external, settings: settings)
                jwt.providers[oauth2Provider(header, external: index)] = accessTokenProvider(base)
            }
            for issuer in organizationIssuers(requirements, using: credential) {
                jwt.providers["\(oauth2Provider(header))/\(issuer.plan.id)"] =
                    accessTokenProvider(organizationBaseProvider(issuer, settings: settings), profile: issuer.plan)
            }
        }
        // One requirement per name: an issuer change translates every API of its organization again in the same
        // round, so no two requirements with one name (and different issuer definitions) meet here.
        for requirementKey in requirements {
            let credentials = requirementKey.credentials
            let plans = requirementKey.issuers.map(\.plan)
            let names = credentials.flatMap { providerNames($0, issuers: $0.isAccessToken ? plans : [], settings: settings) }
            var requirement = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtRequirement()
            if names.count == 1 {
                requirement.providerName = names[0]  // `requires_any` needs two or more
            } else {
                var any = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtRequirementOrList()
                any.requirements = names.map { name in
                    var one = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtRequirement()
                    one.providerName = name
                    return one
                }
                requirement.requiresAny = any
            }
            jwt.requirementMap[requirementName(credentials, issuers: plans)] = requirement
        }
        return jwt
    }

    /// The ECDS resource carrying ``jwtAuthentication(requirements:settings:)``.
    package static func jwtAuthnExtension(
        requirements: Set<JWTRequirement>, settings: XDSSettings, encoder: ProtoEncoder
    ) throws -> Envoy_Config_Core_V3_TypedExtensionConfig {
        var config = Envoy_Config_Core_V3_TypedExtensionConfig()
        config.name = jwtFilterName
        config.typedConfig = try AnyPacking.pack(jwtAuthentication(requirements: requirements, settings: settings), encoder: encoder)
        return config
    }

    static func claimToHeader(_ header: String, _ claim: String) -> Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtClaimToHeader {
        var copy = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtClaimToHeader()
        copy.headerName = header
        copy.claimName = claim
        return copy
    }

    /// What every provider shares: issuer, key source, time rules (`exp` required, a non-empty `sub`, the
    /// evaluator's clock skew) and a per-worker cache of verified tokens.
    static func baseProvider(issuer: String, settings: XDSSettings) -> Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtProvider {
        var provider = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtProvider()
        provider.issuer = issuer
        provider.requireExpiration = true
        var subject = Envoy_Type_Matcher_V3_StringMatcher()
        subject.safeRegex.regex = ".+"
        provider.subjects = subject
        provider.clockSkewSeconds = UInt32(AuthEvaluator.clockSkewSeconds)
        var cache = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtCacheConfig()
        cache.jwtCacheSize = 1000
        provider.jwtCacheConfig = cache
        if settings.systemDeployer != nil {
            provider.remoteJwks = remoteJwks(
                cluster: systemDeployerCluster, uri: "http://idp.am.wso2.com" + settings.auth.jwksPath, settings: settings)
        } else {
            provider.localJwks.inlineString = #"{"keys":[]}"#  // no issuer configured: every token fails (closed)
        }
        return provider
    }

    /// An issuer's keys, fetched through `cluster`.
    static func remoteJwks(
        cluster: String, issuer: XDSSettings.ExternalIssuer, settings: XDSSettings
    ) -> Envoy_Extensions_Filters_Http_JwtAuthn_V3_RemoteJwks {
        remoteJwks(
            cluster: cluster, uri: "\(issuer.jwks.tls ? "https" : "http")://\(issuer.jwks.host)\(issuer.path)",
            settings: settings)
    }

    /// Keys fetched through `cluster` (at listener start, then every `AUTH_JWKS_CACHE_TTL`; a failed fetch is
    /// retried after 2 s).
    static func remoteJwks(
        cluster: String, uri: String, settings: XDSSettings
    ) -> Envoy_Extensions_Filters_Http_JwtAuthn_V3_RemoteJwks {
        var remote = Envoy_Extensions_Filters_Http_JwtAuthn_V3_RemoteJwks()
        remote.httpUri.uri = uri
        remote.httpUri.cluster = cluster
        remote.httpUri.timeout = Google_Protobuf_Duration(seconds: 5)
        remote.cacheDuration = Google_Protobuf_Duration(seconds: Int64(settings.auth.jwksCacheSeconds))
        var fetch = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwksAsyncFetch()
        fetch.failedRefetchDuration = Google_Protobuf_Duration(seconds: 2)
        remote.asyncFetch = fetch
        return remote
    }

    /// Per-route filter configuration and metadata of one operation (in `route`); throws when the plan cannot be
    /// compiled with this gateway's providers.
    static func applyAuth(
        _ plan: APIAuthPlan, _ operation: OperationAuthPlan, keyType: KeyType, to route: inout Envoy_Config_Route_V3_Route,
        settings: XDSSettings, encoder: ProtoEncoder
    ) throws {
        let secured = !plan.disabled && operation.secured
        // Both modes: API keys need an API-key issuer (the native providers and the enforcer's keys come from it).
        if secured, plan.credentials.contains(where: { if case .apiKey = $0 { true } else { false } }),
            settings.auth.apiKeyIssuers.isEmpty
        {
            throw UnservableAPI("it accepts API keys, and the gateway trusts no API-key issuer (adapter setting AUTH_API_KEY_ISSUERS)")
        }
        if case .enforcer = settings.auth.enforcement {
            return try applyEnforcer(plan, operation, keyType: keyType, to: &route, settings: settings, encoder: encoder)
        }
        var perRoute = Envoy_Extensions_Filters_Http_JwtAuthn_V3_PerRouteConfig()
        guard secured else {
            perRoute.disabled = true
            route.typedPerFilterConfig[jwtFilterName] = try AnyPacking.pack(perRoute, encoder: encoder)
            return
        }
        if let jwt = operation.backendJWT ?? plan.backendJWT {
            switch settings.auth.backendJWTStage {
            case .lua:
                guard settings.systemEnforcerJWKS != nil else {
                    throw UnservableAPI("its backend JWT is signed by the enforcer, and the adapter setting SYSTEM_ENFORCER_JWKS_URL is none")
                }
                try applyBackendJWTStage(plan, operation, jwt: jwt, keyType: keyType, to: &route, encoder: encoder)
            case .extAuthz:
                guard settings.auth.enforcer != nil else {
                    throw UnservableAPI("its backend JWT is signed by the enforcer, and the adapter setting AUTH_ENFORCER_URL is none")
                }
                var extAuthz = Envoy_Extensions_Filters_Http_ExtAuthz_V3_ExtAuthzPerRoute()
                extAuthz.checkSettings.contextExtensions[BackendJWTRoute.contextKey] =
                    try BackendJWTRoute(apiID: plan.apiID, keyType: keyType, plan: jwt, issuers: plan.issuers).encoded()
                route.typedPerFilterConfig[extAuthzFilterName] = try AnyPacking.pack(extAuthz, encoder: encoder)
            }
        }
        perRoute.requirementName = requirementName(plan.credentials, issuers: plan.issuers)
        route.typedPerFilterConfig[jwtFilterName] = try AnyPacking.pack(perRoute, encoder: encoder)
        var queryParametersToRemove: [String] = []

        var rules = Envoy_Config_Rbac_V3_RBAC()
        rules.action = .allow
        for credential in plan.credentials {
            var policy = Envoy_Config_Rbac_V3_Policy()
            var any = Envoy_Config_Rbac_V3_Permission()
            any.any = true
            policy.permissions = [any]
            switch credential {
            case .oauth2(let header, let sendToUpstream):
                policy.principals = [scopePrincipal(operation.scopes, issuers: plan.issuers ?? [])]
                rules.policies["oauth2"] = policy
                if !sendToUpstream { route.requestHeadersToRemove.append(header) }
            case .jwt(let header, let sendToUpstream, let audiences):
                var matchers = [metadataPrincipal([jwtMetadataKey], present: true)]
                if !audiences.isEmpty {
                    // `aud` is a string or a list in the verified payload: either form may name an audience.
                    var any = Envoy_Config_Rbac_V3_Principal()
                    any.orIds.ids = audiences.flatMap { audience in
                        [metadataPrincipal([jwtMetadataKey, "aud"], equals: audience),
                         metadataPrincipal([jwtMetadataKey, "aud"], listContains: audience)]
                    }
                    matchers.append(any)
                }
                policy.principals = [andPrincipal(matchers)]
                rules.policies["jwt"] = policy
                if !sendToUpstream { route.requestHeadersToRemove.append(header) }
            case .apiKey(let location, let sendToUpstream):
                // A key without `keytype` is good for both environments; one naming the other environment is not.
                var noKeyType = Envoy_Config_Rbac_V3_Principal()
                noKeyType.notID = metadataPrincipal([apiKeyMetadataKey, "keytype"], present: true)
                var keyTypeMatches = Envoy_Config_Rbac_V3_Principal()
                keyTypeMatches.orIds.ids = [noKeyType, metadataPrincipal([apiKeyMetadataKey, "keytype"], equals: keyType.rawValue)]
                policy.principals = [andPrincipal([metadataPrincipal([apiKeyMetadataKey], present: true), keyTypeMatches])]
                rules.policies["api-key"] = policy
                if !sendToUpstream {
                    switch location {
                    case .header(let name): route.requestHeadersToRemove.append(name)
                    case .query(let name): queryParametersToRemove.append(name)
                    }
                }
            case .internalKey:
                policy.principals = [andPrincipal([
                    metadataPrincipal([internalKeyMetadataKey, "apiId"], equals: plan.apiID),
                    metadataPrincipal([internalKeyMetadataKey, "keytype"], equals: keyType.rawValue),
                ])]
                rules.policies["internal-key"] = policy
                // Never to a backend, whichever credential decided (the evaluator removes it too).
                route.requestHeadersToRemove.append(AuthPlanBuilder.internalKeyHeader)
            }
        }
        if !queryParametersToRemove.isEmpty {
            // A query API key the API does not send upstream (the header_mutation filter runs after rbac).
            var mutation = Envoy_Extensions_Filters_Http_HeaderMutation_V3_HeaderMutationPerRoute()
            mutation.mutations.queryParameterMutations = queryParametersToRemove.map { name in
                var remove = Envoy_Config_Core_V3_KeyValueMutation()
                remove.remove = name
                return remove
            }
            route.typedPerFilterConfig[headerMutationFilterName] = try AnyPacking.pack(mutation, encoder: encoder)
        }
        var rbac = Envoy_Extensions_Filters_Http_Rbac_V3_RBACPerRoute()
        rbac.rbac.rules = rules
        route.typedPerFilterConfig[rbacFilterName] = try AnyPacking.pack(rbac, encoder: encoder)
        route.metadata.filterMetadata[metadataNamespace, default: Google_Protobuf_Struct()].fields[denialTargetKey] =
            Google_Protobuf_Value(stringValue: String(DocumentWriter.json(.string(operation.target)).dropFirst().dropLast()))
    }

    static func andPrincipal(_ ids: [Envoy_Config_Rbac_V3_Principal]) -> Envoy_Config_Rbac_V3_Principal {
        guard ids.count > 1 else { return ids[0] }
        var principal = Envoy_Config_Rbac_V3_Principal()
        principal.andIds.ids = ids
        return principal
    }

    static func metadataPrincipal(
        _ path: [String], equals value: String? = nil, listContains element: String? = nil, present: Bool = false
    ) -> Envoy_Config_Rbac_V3_Principal {
        var matcher = Envoy_Type_Matcher_V3_MetadataMatcher()
        matcher.filter = jwtFilterName
        matcher.path = path.map { key in
            var segment = Envoy_Type_Matcher_V3_MetadataMatcher.PathSegment()
            segment.key = key
            return segment
        }
        if let value {
            matcher.value.stringMatch.exact = value
        } else if let element {
            var item = Envoy_Type_Matcher_V3_ValueMatcher()
            item.stringMatch.exact = element
            matcher.value.listMatch.oneOf = item
        } else {
            matcher.value.presentMatch = present
        }
        var principal = Envoy_Config_Rbac_V3_Principal()
        principal.sourcedMetadata.metadataMatcher = matcher
        principal.sourcedMetadata.metadataSource = .dynamic
        return principal
    }
}

/// An API the gateway cannot serve as configured (its status says why).
package struct UnservableAPI: Error, CustomStringConvertible {
    package var description: String

    init(_ description: String) {
        self.description = description
    }
}
