package import APKModel
package import APKStore
package import Foundation
package import Logging
package import APKConversion

/// Deploy, undeploy and lookup of APIs against the stores; organization-scoped throughout.
///
/// Holds no lock: concurrent deploys are serialised only by the store's transaction (one per bundle), which is also
/// where ownership is checked — an API id of another organization, or a child name another API owns, is refused there.
package struct APIService: Sendable {
    package let resources: any ResourceStore
    package let controlPlane: any ControlPlaneStore
    /// Namespace every API is stored in.
    package let namespace: String
    package let bundleOptions: CRBundleBuilder.Options
    private let now: @Sendable () -> Date

    package init(
        resources: any ResourceStore, controlPlane: any ControlPlaneStore, namespace: String,
        bundleOptions: CRBundleBuilder.Options, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.resources = resources
        self.controlPlane = controlPlane
        self.namespace = namespace
        self.bundleOptions = bundleOptions
        self.now = now
    }

    /// §3.2: validates, builds and stores the bundle; returns the apk-conf with defaults and `id` filled in.
    package func deploy(conf confData: Data, definition: Data, caller: Caller, logger: Logger) async throws(APKError) -> ApkConf {
        let digest = Hashing.sha256(confData)
        let conf = try ApkConfLoader().load(confData)
        let apiID = CRBundleBuilder.apiID(for: conf, organization: caller.organization)
        do throws(APKError) {
            let unsupported = GatewaySupport.unsupported(conf)
            guard unsupported.isEmpty else { throw .notServedYet(unsupported) }
            var options = bundleOptions
            options.namespace = namespace
            let bundle = try CRBundleBuilder(options: options).build(
                conf: conf, definition: definition, organization: caller.organization)
            let result: ApplyResult
            do {
                result = try await resources.apply(bundle, namespace: namespace)
            } catch {
                throw APKError.store(error)
            }
            await record(.deploy, apiID: apiID, caller: caller, digest: digest, result: "success", logger: logger)
            logger.info(
                "API deployed",
                metadata: [
                    "apk.api.id": .string(apiID), "apk.organization": .string(caller.organization),
                    "apk.created": .stringConvertible(result.created), "apk.written": .stringConvertible(result.written),
                ])
            var deployed = conf
            deployed.id = bundle.apiID
            return deployed
        } catch {
            await record(.deploy, apiID: apiID, caller: caller, digest: digest, result: String(error.code), logger: logger)
            throw error
        }
    }

    /// §3.3: deletes the API and its children; 404 909001 when the caller's organization has no such API.
    package func undeploy(id: String, caller: Caller, logger: Logger) async throws(APKError) {
        _ = try await api(id: id, organization: caller.organization)
        let deleted: Bool
        do {
            deleted = try await resources.deleteAPI(id: id, namespace: namespace, organization: caller.organization)
        } catch {
            throw .store(error)
        }
        guard deleted else { throw .apiNotFound(id) }
        await record(.undeploy, apiID: id, caller: caller, digest: "", result: "success", logger: logger)
        logger.info("API undeployed", metadata: ["apk.api.id": .string(id), "apk.organization": .string(caller.organization)])
    }

    /// The organization's APIs, ordered by name then version.
    package func list(organization: String) async throws(APKError) -> [APISummary] {
        let stored: [StoredResource]
        do {
            stored = try await resources.list(kind: CRKind.api.rawValue, namespace: namespace, owner: nil)
        } catch {
            throw .store(error)
        }
        return stored.compactMap(APISummary.init).filter { $0.organization == organization }
            .sorted { ($0.name, $0.version, $0.id) < ($1.name, $1.version, $1.id) }
    }

    /// One API of the organization; 404 909001 when absent or owned by another organization.
    package func api(id: String, organization: String) async throws(APKError) -> APISummary {
        let stored: StoredResource?
        do {
            stored = try await resources.get(ResourceKey(kind: CRKind.api.rawValue, namespace: namespace, name: id))
        } catch {
            throw .store(error)
        }
        guard let summary = stored.flatMap(APISummary.init), summary.organization == organization else {
            throw .apiNotFound(id)
        }
        return summary
    }

    /// Best effort: history is an audit aid, so a failure to write it is logged, never returned.
    private func record(
        _ action: DeployHistoryEntry.Action, apiID: String, caller: Caller, digest: String, result: String, logger: Logger
    ) async {
        let entry = DeployHistoryEntry(
            apiID: apiID, organization: caller.organization, action: action, actor: caller.subject,
            apkConfDigest: digest, result: result, at: now())
        do {
            try await controlPlane.recordDeploy(entry)
        } catch {
            logger.warning(
                "deploy history not recorded",
                metadata: ["apk.api.id": .string(apiID), "error.description": .string(error.description)])
        }
    }
}
