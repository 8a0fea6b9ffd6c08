import APKAuthPlan
import APKModel
import APKProtos
import APKXDS
import Foundation
import SwiftProtobuf

/// The APK discovery snapshot the enforcer and the ratelimiter subscribe to: every usable `TokenIssuer` of the
/// namespace as `apk.discovery.v1.TokenIssuer` (resource name `<organization>/<name>`, the plans' issuer id), and
/// the translated APIs' quotas as `apk.discovery.v1.RateLimitConfig` (one per `<organization>/<environment>`).
///
/// Each part is rebuilt only when its input changed (a `TokenIssuer` event; an API whose quotas changed), so a
/// deploy that touches neither costs nothing here; published only when its content changed, and before Envoy's
/// snapshot. An issuer that cannot be used (its API statuses say why) is left out, so the enforcer trusts exactly
/// what the router trusts.
struct ServiceSnapshotBuilder {
    let reservedIssuers: Set<String>
    /// The `TokenIssuer` input the issuers were built from (``ResourceIndex/kindVersion(_:)``), and the result.
    private var issuersInput: Int64?
    private var issuers = VersionedResources(version: "")
    /// Per translated API its quotas; `rateLimitsDirty` when one changed since the last publication.
    private var rateLimits: [String: APIRateLimits] = [:]
    private var rateLimitsDirty = true
    private var limits = VersionedResources(version: "")
    private var published: (issuers: String, limits: String)?

    init(reservedIssuers: Set<String>) {
        self.reservedIssuers = reservedIssuers
    }

    /// The quotas of one API: its API-level rule and its operations' (every environment).
    struct APIRateLimits: Sendable, Hashable {
        var organization: String
        var environment: String
        var rules: [Apk_Discovery_V1_RateLimitRule]

        /// nil when the API has no quota. In local-share mode a rule says how much of it the routers pass on
        /// their own (``XDSSettings/localShare(for:)``), the same arithmetic as the routes'.
        init?(_ api: APIIR, settings: XDSSettings) {
            var rules: [Apk_Discovery_V1_RateLimitRule] = []
            func add(_ limit: RateLimitIR, operation: String, method: String) {
                var rule = Self.rule(limit, api: api.id, operation: operation, method: method)
                rule.localShareReserved = settings.localShare(for: limit)?.reservedPerWindow ?? 0
                rules.append(rule)
            }
            if let limit = api.rateLimit { add(limit, operation: "", method: "") }
            for environment in api.environments {
                for route in environment.routes {
                    guard let limit = route.rateLimit else { continue }
                    add(limit, operation: route.name, method: route.method ?? "")
                }
            }
            guard !rules.isEmpty else { return nil }
            organization = api.organization
            environment = api.environment ?? "Default"
            // Default-version routes repeat their operation's rule: one each.
            var seen: Set<String> = []
            self.rules = rules.filter { seen.insert($0.descriptorValue).inserted }
        }

        static func rule(_ limit: RateLimitIR, api: String, operation: String, method: String) -> Apk_Discovery_V1_RateLimitRule {
            var rule = Apk_Discovery_V1_RateLimitRule()
            rule.apiID = api
            rule.operationID = operation
            rule.method = method
            rule.descriptorValue = limit.descriptor
            rule.limit.requestsPerUnit = UInt32(clamping: limit.requestsPerUnit)
            rule.limit.unit = switch limit.unit {
            case .second: .second
            case .minute: .minute
            case .hour: .hour
            case .day: .day
            }
            return rule
        }
    }

    /// Records what `api` now asks of the ratelimiter (nil: nothing, or the API is gone).
    mutating func setRateLimits(of api: String, _ new: APIRateLimits?) {
        guard rateLimits[api] != new else { return }
        rateLimits[api] = new
        rateLimitsDirty = true
    }

    /// Forgets every API's quotas (a relist translates them all again).
    mutating func removeAllRateLimits() {
        rateLimits = [:]
        rateLimitsDirty = true
    }

    /// The snapshot when it differs from the last one published; nil otherwise. `issuersInput`: the version of the
    /// `TokenIssuer` kind in the index (the issuers are rebuilt only when it moved).
    mutating func publish(_ lookup: ResourceLookup, issuersInput: Int64) -> Snapshot? {
        if issuersInput != self.issuersInput {
            self.issuersInput = issuersInput
            issuers = Self.tokenIssuers(lookup, reserved: reservedIssuers)
        }
        if rateLimitsDirty {
            rateLimitsDirty = false
            limits = Self.rateLimitConfigs(rateLimits)
        }
        guard published == nil || published! != (issuers.version, limits.version) else { return nil }
        published = (issuers.version, limits.version)
        return Snapshot(types: [TypeURL.tokenIssuer: issuers, TypeURL.rateLimitConfig: limits])
    }

    /// Every usable `TokenIssuer` of the namespace, by `<organization>/<name>`.
    static func tokenIssuers(_ lookup: ResourceLookup, reserved: Set<String>) -> VersionedResources {
        var resources: [String: Google_Protobuf_Any] = [:]
        var digests: [String] = []
        for resource in lookup.ofKind(CRKind.tokenIssuer.rawValue) {
            guard let value = resource.spec, let spec = try? JSONValueCoding.decode(TokenIssuerSpec.self, from: value),
                let issuer = try? ResolvedTokenIssuer(name: resource.name, spec: spec),
                !reserved.contains(issuer.plan.issuer),
                let any = try? AnyPacking.pack(Self.message(issuer, name: resource.name), encoder: .deterministic)
            else { continue }
            resources[issuer.plan.id] = any
            digests.append(issuer.plan.id + "=" + ContentDigest.of(any.value))
        }
        return VersionedResources(version: ContentDigest.of(Data(digests.sorted().joined(separator: "\n").utf8)), resources: resources)
    }

    /// The quotas grouped per organization and environment, rules sorted by descriptor value.
    static func rateLimitConfigs(_ rateLimits: [String: APIRateLimits]) -> VersionedResources {
        var grouped: [String: Apk_Discovery_V1_RateLimitConfig] = [:]
        for api in rateLimits.keys.sorted() {
            guard let limits = rateLimits[api] else { continue }
            let name = "\(limits.organization)/\(limits.environment)"
            grouped[name, default: {
                var config = Apk_Discovery_V1_RateLimitConfig()
                config.organization = limits.organization
                config.environment = limits.environment
                return config
            }()].rules += limits.rules
        }
        var resources: [String: Google_Protobuf_Any] = [:]
        var digests: [String] = []
        for (name, var config) in grouped {
            config.rules.sort { $0.descriptorValue < $1.descriptorValue }
            guard let any = try? AnyPacking.pack(config, encoder: .deterministic) else { continue }
            resources[name] = any
            digests.append(name + "=" + ContentDigest.of(any.value))
        }
        return VersionedResources(version: ContentDigest.of(Data(digests.sorted().joined(separator: "\n").utf8)), resources: resources)
    }

    static func message(_ issuer: ResolvedTokenIssuer, name: String) -> Apk_Discovery_V1_TokenIssuer {
        var message = Apk_Discovery_V1_TokenIssuer()
        message.name = name
        message.issuer = issuer.plan.issuer
        message.organization = issuer.organization
        switch issuer.keys {
        case .jwks(let url, let trustedCA):
            message.jwksURL = url
            message.jwksTrustedCa = trustedCA ?? ""
        case .certificate(let pem, _): message.certificate = pem
        }
        message.consumerKeyClaim = issuer.plan.consumerKey
        message.scopesClaim = issuer.plan.scopes
        message.claimMappings = (issuer.plan.claimMappings ?? []).map { rename in
            var mapping = Apk_Discovery_V1_ClaimMapping()
            mapping.remoteClaim = rename.remote
            mapping.localClaim = rename.local
            return mapping
        }
        message.environments = issuer.environments
        return message
    }
}
