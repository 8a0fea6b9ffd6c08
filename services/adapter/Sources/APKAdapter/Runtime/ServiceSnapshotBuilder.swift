import APKAuthPlan
import APKModel
import APKProtos
import APKXDS
import Foundation
import SwiftProtobuf

/// The APK discovery snapshot the enforcer (and the ratelimiter) subscribe to: every usable `TokenIssuer` of the
/// namespace as `apk.discovery.v1.TokenIssuer` (resource name `<organization>/<name>`, the plans' issuer id).
///
/// Built from the index after every update, O(token issuers); published only when its content changed. An issuer
/// that cannot be used (its API statuses say why) is left out, so the enforcer trusts exactly what the router trusts.
struct ServiceSnapshotBuilder {
    let reservedIssuers: Set<String>
    private var lastVersion: String?

    init(reservedIssuers: Set<String>) {
        self.reservedIssuers = reservedIssuers
    }

    /// The snapshot when it differs from the last one published; nil otherwise.
    mutating func publish(_ lookup: ResourceLookup) -> Snapshot? {
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
        guard version != lastVersion else { return nil }
        lastVersion = version
        return Snapshot(types: [TypeURL.tokenIssuer: VersionedResources(version: version, resources: resources)])
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
