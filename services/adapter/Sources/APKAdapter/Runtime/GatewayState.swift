import APKModel
package import APKStore
package import APKXDS

/// The adapter's model of the watched namespace and of what the gateway serves from it, kept current by store
/// events. Three parts, each with one job:
/// - ``ResourceIndex``: the stored resources, who reads what, the store cursor;
/// - ``APITranslations``: per API, store → IR → encoded Envoy resources, redone only when an input changed;
/// - ``EnvoySnapshotBuilder``: Envoy's snapshot from the per-API outputs, O(what changed) per publication.
/// The enforcer's and the ratelimiter's discovery snapshots are built beside Envoy's, from the same index and
/// translations.
///
/// Not thread-safe: one task (``AdapterService``) owns it.
package struct GatewayState {
    /// What changed for the caller to act on after an update.
    package struct Update: Sendable {
        /// The snapshot to publish (nil when nothing Envoy sees changed).
        package var snapshot: Snapshot?
        /// API CRs whose status should be written (API name → status).
        package var statuses: [String: APIStatus]
        /// The APK discovery snapshot of the enforcer and the ratelimiter (nil when it did not change).
        package var services: Snapshot? = nil
    }

    package let settings: XDSSettings
    private var index: ResourceIndex
    private var translations: APITranslations
    private var envoy: EnvoySnapshotBuilder
    private var services: ServiceSnapshotBuilder

    /// Throws when the gateway-wide resources (listeners, system routes and clusters) cannot be encoded: nothing
    /// could be served then, so the adapter does not start.
    package init(
        namespace: String, settings: XDSSettings, translator: ResourceTranslator = ResourceTranslator(),
        encoder: ProtoEncoder = .deterministic
    ) throws {
        self.settings = settings
        index = ResourceIndex(namespace: namespace)
        var translator = translator
        translator.defaults.reservedIssuers = settings.auth.reservedIssuers
        translations = APITranslations(settings: settings, translator: translator, encoder: encoder)
        envoy = try EnvoySnapshotBuilder(settings: settings, encoder: encoder)
        services = ServiceSnapshotBuilder(reservedIssuers: settings.auth.reservedIssuers)
    }

    package var namespace: String { index.namespace }
    /// The store cursor the state reflects.
    package var cursor: Int64 { index.cursor }
    /// APIs Envoy rejected (name → Envoy's message), left out until their inputs change.
    package var quarantined: [String: String] { translations.quarantined }
    /// Number of APIs translated (served or not).
    package var apiCount: Int { translations.count }
    /// Number of APIs with routes in the current snapshot.
    package var servedCount: Int { translations.servedCount }
    /// The translation of one API (nil if unknown).
    package func translation(of api: String) -> APITranslation? { translations.translation(of: api) }

    /// Replaces everything with a listed state (start-up or relist).
    package mutating func load(_ snapshot: ResourceSnapshot) -> Update {
        envoy.removeAllAPIs(known: translations.names)
        translations.removeAll()
        services.removeAllRateLimits()
        let apis = index.load(snapshot)
        return retranslate(apis, force: true)
    }

    /// Applies store events (any order of kinds; events of other namespaces are ignored).
    package mutating func apply(_ events: [ResourceEvent]) -> Update {
        retranslate(index.apply(events), force: false)
    }

    /// Envoy rejected a response: quarantines the APIs whose output changed between the version Envoy still runs
    /// and the rejected one, and rebuilds without them. Returns nil when no API can be blamed (logged by the caller).
    package mutating func rejected(_ nack: NACKRecord) -> Update? {
        guard let blamed = envoy.blame(nack)?.filter(translations.isServed), !blamed.isEmpty else { return nil }
        let message = "rejected by the router (\(TypeURL.shortName(nack.typeURL))): \(nack.message)"
        var statuses: [String: APIStatus] = [:]
        for api in blamed {
            let old = translations.quarantine(api, reason: message)
            envoy.replace(api, from: old, to: .empty)
            statuses[api] = .failed(message)
        }
        let published = envoy.publish()
        return Update(snapshot: published.snapshot, statuses: stamped(published.statuses.merging(statuses) { $1 }))
    }

    private mutating func retranslate(_ apis: Set<String>, force: Bool) -> Update {
        var statuses: [String: APIStatus] = [:]
        for api in apis.sorted() {
            guard let change = translations.update(api, in: index, force: force) else { continue }
            index.setReferences(of: api, from: change.oldReferences, to: change.newReferences)
            envoy.replace(api, from: change.oldOutput, to: change.newOutput)
            if let status = change.status { statuses[api] = status }
            services.setRateLimits(
                of: api,
                translations.translation(of: api)?.api.flatMap {
                    ServiceSnapshotBuilder.APIRateLimits($0, settings: envoy.settings)
                })
        }
        let servicesSnapshot = services.publish(index.lookup, issuersInput: index.kindVersion(CRKind.tokenIssuer.rawValue))
        // Status-only events (the adapter's own status writes among them) change nothing Envoy sees: skip the
        // O(all APIs) assembly.
        guard force || envoy.hasChanges else {
            return Update(snapshot: nil, statuses: statuses, services: servicesSnapshot)
        }
        let published = envoy.publish()
        return Update(
            snapshot: published.snapshot, statuses: stamped(published.statuses.merging(statuses) { published, _ in published }),
            services: servicesSnapshot)
    }

    /// Statuses with the generation of the API they describe (those from translation already carry it).
    private func stamped(_ statuses: [String: APIStatus]) -> [String: APIStatus] {
        var stamped = statuses
        for (api, status) in statuses where status.observedGeneration == nil {
            stamped[api]?.observedGeneration = index.api(named: api)?.generation
        }
        return stamped
    }
}
