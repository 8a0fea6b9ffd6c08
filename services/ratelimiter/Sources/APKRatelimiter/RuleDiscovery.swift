import APKProtos
package import APKSupport
package import APKXDS
package import Logging
import Metrics

/// The rules from the adapter: an ``XDSClient`` subscribed to every `apk.discovery.v1.RateLimitConfig` resource
/// (one per organization and environment) of one node, feeding the ``RuleStore``.
///
/// Each update is the complete set (state of the world); it is validated as a whole (``RuleSet/init(configs:)``)
/// and either put in force (ACK) or rejected (NACK, with the error's code and detail): the previous set stays in
/// force then, as it does while the stream is down.
package enum RuleDiscovery {
    /// `type.googleapis.com/apk.discovery.v1.RateLimitConfig`.
    package static let typeURL = XDSClient.typeURL(of: Apk_Discovery_V1_RateLimitConfig.self)

    /// A client (a `Service`) that keeps `store` up to date from the ADS server `connector` reaches.
    package static func client(
        store: RuleStore, nodeID: String, connector: XDSClient.Connector, logger: Logger,
        backoff: Backoff = .defaults
    ) -> XDSClient {
        client(store: store, nodeID: nodeID, connector: connector, logger: logger, backoff: backoff,
               metrics: RatelimiterMetrics())
    }

    static func client(
        store: RuleStore, nodeID: String, connector: XDSClient.Connector, logger: Logger, backoff: Backoff,
        metrics: RatelimiterMetrics
    ) -> XDSClient {
        XDSClient(
            configuration: .init(
                nodeID: nodeID, cluster: "apk-ratelimiter", subscriptions: [.init(typeURL: typeURL)],
                backoff: backoff),
            connector: connector, logger: logger
        ) { update in
            try apply(update, to: store, logger: logger, metrics: metrics)
        }
    }

    /// Validates `update` and puts its rules in force; throws (NACK) when it cannot be used.
    static func apply(
        _ update: XDSClient.Update, to store: RuleStore, logger: Logger, metrics: RatelimiterMetrics
    ) throws {
        let rules: RuleSet
        do {
            rules = try RuleSet(configs: update.decode(Apk_Discovery_V1_RateLimitConfig.self))
        } catch {
            metrics.ruleUpdatesRejected.increment()
            logger.error(
                "rate-limit rules rejected; the previous rules stay in force",
                metadata: [
                    "xds.version": "\(update.version)",
                    "error.code": "\(errorCode(error))",
                    "error.description": "\(error)",
                ])
            throw error
        }
        store.replace(with: rules, version: update.version)
        metrics.ruleUpdatesAccepted.increment()
        metrics.rules.record(rules.count)
        logger.info(
            "rate-limit rules in force",
            metadata: [
                "xds.version": "\(update.version)", "ratelimit.rules": "\(rules.count)",
                "xds.resources": "\(update.resources.count)",
            ])
    }

    /// The stable code of a rejection: the rule set's or the decoder's.
    private static func errorCode(_ error: any Error) -> String {
        switch error {
        case let error as RatelimiterError: error.code.rawValue
        case let error as XDSClientError: error.code.rawValue
        default: "ratelimit_rules_unreadable"
        }
    }
}
