import APKAuth
package import APKAuthPlan
import EnvoyProtos
import SwiftProtobuf

// Organizations' `TokenIssuer`s compiled into `jwt_authn` (docs/enforcer-design.md, "Decisions taken for token
// issuers"): a provider per issuer and credential location, the issuer's JWKS cluster, and the scope principal that
// reads each issuer's own scopes claim.
extension XDSTranslator {
    /// The provider of an organization's `TokenIssuer` (``PlanIssuer/id``) for the OAuth2 or JWT-type credential
    /// on `header`.
    static func organizationProvider(_ credential: Credential, _ issuer: PlanIssuer) -> String? {
        switch credential {
        case .oauth2(let header, _): "\(oauth2Provider(header))/\(issuer.id)"
        case .jwt(let header, _, _): "\(jwtProvider(header))/\(issuer.id)"
        case .apiKey, .internalKey: nil
        }
    }

    /// The cluster Envoy fetches an organization issuer's JWKS through.
    static func issuerJWKSCluster(_ issuer: PlanIssuer) -> String { "apk-issuer-jwks/\(issuer.id)" }

    /// The clusters of the API's organization issuers whose keys come from a JWKS URL.
    static func issuerClusters(
        _ issuers: [ResolvedTokenIssuer], settings: XDSSettings, encoder: ProtoEncoder
    ) throws -> [Envoy_Config_Cluster_V3_Cluster] {
        try issuers.compactMap { issuer in
            guard case .jwks(let url, let trustedCA) = issuer.keys,
                let source = XDSSettings.ExternalIssuer(issuer: issuer.plan.issuer, jwksURL: url)
            else { return nil }
            var cluster = try systemCluster(
                name: issuerJWKSCluster(issuer.plan), upstream: source.jwks, settings: settings, encoder: encoder)
            if source.jwks.tls, let trustedCA {
                var context = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext()
                context.sni = source.jwks.host
                context.commonTlsContext.validationContext.trustedCa.inlineString = trustedCA
                cluster.transportSocket = try transportSocket(upstream: context, encoder: encoder)
            }
            return cluster
        }
    }

    /// The organization issuers of the requirements that use `credential`, each once, by id.
    static func organizationIssuers(
        _ requirements: Set<JWTRequirement>, using credential: Credential
    ) -> [ResolvedTokenIssuer] {
        var byID: [String: ResolvedTokenIssuer] = [:]
        for requirement in requirements where requirement.credentials.contains(credential) {
            // One definition per id: an issuer change translates every API of its organization again in the same round.
            for issuer in requirement.issuers { byID[issuer.plan.id] = issuer }
        }
        return byID.keys.sorted().compactMap { byID[$0] }
    }

    /// An organization issuer's provider base: its `iss` and its keys (remote JWKS through its own cluster, or the
    /// local JWKS built from its certificate).
    static func organizationBaseProvider(
        _ issuer: ResolvedTokenIssuer, settings: XDSSettings
    ) -> Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtProvider {
        var provider = baseProvider(issuer: issuer.plan.issuer, settings: settings)
        switch issuer.keys {
        case .jwks(let url, _):
            provider.remoteJwks = remoteJwks(cluster: issuerJWKSCluster(issuer.plan), uri: url, settings: settings)
        case .certificate(_, let jwks):
            var source = Envoy_Config_Core_V3_DataSource()
            source.inlineString = jwks
            provider.localJwks = source
        }
        return provider
    }

    /// A verified access token holding every scope, read from the scopes claim of the issuer that signed it: `scope`
    /// for the gateway's issuers and most `TokenIssuer`s; an issuer with another claim is matched by its `iss`.
    static func scopePrincipal(_ scopes: [String], issuers: [PlanIssuer]) -> Envoy_Config_Rbac_V3_Principal {
        func holding(_ claim: String) -> [Envoy_Config_Rbac_V3_Principal] {
            scopes.isEmpty
                ? [metadataPrincipal([tokenMetadataKey], present: true)]
                : scopes.map { metadataPrincipal([tokenMetadataKey, claim], listContains: $0) }
        }
        let others = Dictionary(grouping: issuers.filter { $0.scopes != AuthEvaluator.scopesClaim }, by: \.scopes)
        guard !scopes.isEmpty, !others.isEmpty else { return andPrincipal(holding(AuthEvaluator.scopesClaim)) }
        func signedBy(_ group: [PlanIssuer]) -> Envoy_Config_Rbac_V3_Principal {
            var any = Envoy_Config_Rbac_V3_Principal()
            any.orIds.ids = Set(group.map(\.issuer)).sorted().map { metadataPrincipal([tokenMetadataKey, "iss"], equals: $0) }
            return any.orIds.ids.count == 1 ? any.orIds.ids[0] : any
        }
        var notOthers = Envoy_Config_Rbac_V3_Principal()
        notOthers.notID = signedBy(others.values.flatMap(\.self))
        var any = Envoy_Config_Rbac_V3_Principal()
        any.orIds.ids = [andPrincipal([notOthers] + holding(AuthEvaluator.scopesClaim))]
            + others.keys.sorted().map { claim in andPrincipal([signedBy(others[claim]!)] + holding(claim)) }
        return any
    }

}

/// One `jwt_authn` requirement: a credential list and the organization issuers (with their keys) its API trusts
/// besides the gateway's own. Named by ``XDSTranslator/requirementName(_:issuers:)``.
package struct JWTRequirement: Sendable, Hashable {
    package var credentials: [Credential]
    package var issuers: [ResolvedTokenIssuer]

    package init(credentials: [Credential], issuers: [ResolvedTokenIssuer] = []) {
        self.credentials = credentials
        self.issuers = issuers
    }
}

