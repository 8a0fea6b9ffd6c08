import APKAuth
import APKAuthPlan
package import APKProtos
package import APKXDS
package import Logging
import Synchronization

/// The organizations' `TokenIssuer`s from the adapter's APK discovery (`apk.discovery.v1.TokenIssuer`, resource
/// name `<organization>/<name>`): each update replaces the set in the ``KeyRing`` (new JWKS fetched before the
/// update is acknowledged). The enforcer is ready only after the first update, so that it never answers with fewer
/// issuers than the router trusts.
package final class IssuerDiscovery: Sendable {
    private let keys: KeyRing
    private let logger: Logger
    private let received = Atomic<Bool>(false)

    package init(keys: KeyRing, logger: Logger) {
        self.keys = keys
        self.logger = logger
    }

    /// True once the first set of issuers has been applied.
    package var hasReceived: Bool { received.load(ordering: .acquiring) }

    /// The client that subscribes to the issuers on the adapter at `host:port` as node `nodeID`.
    package func client(host: String, port: Int, nodeID: String) -> XDSClient {
        XDSClient(
            configuration: XDSClient.Configuration(
                nodeID: nodeID, subscriptions: [XDSClient.Subscription(Apk_Discovery_V1_TokenIssuer.self)]),
            connector: .plaintext(host: host, port: port), logger: logger
        ) { update in
            try await self.apply(update.decode(Apk_Discovery_V1_TokenIssuer.self))
        }
    }

    /// Applies one complete set. An issuer that cannot be used is left out (logged; its tokens are refused), the
    /// others are applied.
    package func apply(_ messages: [Apk_Discovery_V1_TokenIssuer]) async {
        var issuers: [KeyRing.OrganizationIssuer] = []
        for message in messages {
            let id = "\(message.organization)/\(message.name)"
            guard !message.organization.isEmpty, !message.name.isEmpty else {
                logger.warning("token issuer without organization or name ignored")
                continue
            }
            switch message.signatureValidation {
            case .jwksURL(let url)? where ResolvedTokenIssuer.isJWKSURL(url):
                let trustedCA = message.jwksTrustedCa.isEmpty ? nil : message.jwksTrustedCa
                issuers.append(KeyRing.OrganizationIssuer(id: id, keys: .jwks(url: url, trustedCA: trustedCA)))
            case .certificate(let pem)? where VerificationKey.keys(fromPEM: pem) != nil:
                issuers.append(KeyRing.OrganizationIssuer(id: id, keys: .certificate(pem: pem)))
            default:
                logger.warning("token issuer without usable keys ignored", metadata: ["auth.issuer.id": .string(id)])
            }
        }
        await keys.setOrganizationIssuers(issuers)
        if !received.exchange(true, ordering: .acquiringAndReleasing) {
            logger.info("token issuers received", metadata: ["auth.issuers.organizations": "\(issuers.count)"])
        }
    }
}
