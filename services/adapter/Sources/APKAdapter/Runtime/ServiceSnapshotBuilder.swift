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
/// Built after every update, O(token issuers + APIs with quotas); published only when its content changed, and
/// before Envoy's snapshot. An issuer that cannot be used (its API statuses say why) is left out, so the enforcer
/// trusts exactly what the router trusts.
struct ServiceSnapshotBuilder {
    let reservedIssuers: Set<String>
    private var lastVersion: String?
    private var lastRateLimitVersion: String?

    init(reservedIssuers: Set<String>) {
        self.reservedIssuers = reservedIssuers
    }

    /// The quotas of one API: its API-level rule and its operations' (every environment).
    struct APIRateLimits: Sendable, Hashable {
        var organization: String
        var environment: String
        var rules: [Apk_Discovery_V1_RateLimitRule]

        init?(_ api: APIIR) {
            var rules: [Apk_Discovery_V1_RateLimitRule] = []
            if let limit = api.rateLimit { rules.append(Self.rule(limit, api: api.id, operation: "", method: "")) }
            for environment in api.environments {
                for route in environment.routes {
                    guard let limit = route.rateLimit else { continue }
                    rules.append(Self.rule(limit, api: api.id, operation: route.name, method: route.method ?? ""))
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

    /// The snapshot when it differs from the last one published; nil otherwise.
    mutating func publish(_ lookup: ResourceLookup, rateLimits: [String: APIRateLimits] = [:]) -> Snapshot? {
        var resources: [String: Google_Protobuf_Any] = [:]
        var digests: [String] = []
        for resource in lookup.ofKind(CRKind.tokenIssuer.rawValue) {
            guard let value = resource.spec, let spec = try? JSONValueCoding.decode(TokenIssuerSpec.self, from: value),
                let issuer = try? ResolvedTokenIssuer(name: resource.name, spec: spec),
                !reservedIssuers.contains(issuer.plan.issuer),
                let any = try? AnyPacking.pack(Self.message(issuer), encoder: .deterministic)
            else { continue }
            resources[issuer.plan.id] = any
            digests.append(issuer.plan.id + "=" + ContentDigest.of(any.value))
        }
        let version = ContentDigest.of(Data(digests.sorted().joined(separator: "\n").utf8))
        let limits = Self.rateLimitConfigs(rateLimits)
        guard version != lastVersion || limits.version != lastRateLimitVersion else { return nil }
        lastVersion = version
        lastRateLimitVersion = limits.version
        return Snapshot(types: [
            TypeURL.tokenIssuer: VersionedResources(version: version, resources: resources),
            TypeURL.rateLimitConfig: limits,
        ])
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

    static func message(_ issuer: ResolvedTokenIssuer) -> Apk_Discovery_V1_TokenIssuer {
        var message = Apk_Discovery_V1_TokenIssuer()
        message.name = String(issuer.plan.id.dropFirst(issuer.organization.count + 1))
        message.issuer = issuer.plan.issuer
        message.organization = issuer.organization
        switch issuer.keys {
        case .jwks(let url, _): message.jwksURL = url
        case .certificate(let pem): message.certificate = pem
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
