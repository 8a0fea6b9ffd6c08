package import APKModel
package import Foundation

/// apk-conf + definition → the CR bundle of contract §5.2–5.4. Pure and deterministic: same input, same bytes.
///
/// Decisions where we differ from the reference (see docs/decisions.md): operation-level Backends are named by a
/// hash of their configuration (not a random UUID); API- and operation-level header/mirror/redirect policies are
/// merged (operation entries win for the same header) instead of the API level silently replacing the operation's;
/// literal path text is regex-escaped in route matches; `ownerReferences` are written only when the owner's `uid`
/// is known (a bundle for `kubectl apply` must not carry an empty uid).
package struct CRBundleBuilder: Sendable {
    package struct Options: Sendable, Hashable {
        /// Gateway the HTTPRoutes attach to (`parentRefs`).
        package var gatewayName = "wso2-apk-default"
        /// Listener section of that Gateway.
        package var listenerSection = "httpslistener"
        /// Production virtual hosts; routes get `<org>[-<env>].<vhost>` (§5.4).
        package var productionVhosts = ["gw.wso2.com"]
        /// Sandbox virtual hosts.
        package var sandboxVhosts = ["sandbox.gw.wso2.com"]
        /// Namespace written into metadata (and used for Kubernetes-Service endpoints without one).
        package var namespace: String?
        /// The API CR's `metadata.uid` once stored; children then carry an ownerReference to it.
        package var ownerUID: String?

        package init() {}
    }

    package var options: Options
    package var converter: OpenAPIConverter

    /// Operations per HTTPRoute (§5.2).
    package static let operationsPerRoute = 8
    /// Organization names become DNS labels in hostnames.
    package static let organizationPattern = #"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"#

    package init(options: Options = Options(), converter: OpenAPIConverter = OpenAPIConverter()) {
        self.options = options
        self.converter = converter
    }

    /// The API id: `conf.id`, else `sha1("<org>-<name>-<version>")` (§5.2).
    package static func apiID(for conf: ApkConf, organization: String) -> String {
        conf.id ?? Hashing.sha1("\(organization)-\(conf.name)-\(conf.version)")
    }

    /// Builds every resource for `conf` deployed in `organization`. `conf` must come from ``ApkConfLoader/load(_:)``,
    /// which has checked the schema and the rules (they run once per deploy, there).
    package func build(conf: ApkConf, definition: Data?, organization: String) throws(APKError) -> CRBundle {
        try Self.checkOrganization(organization)
        guard conf.type == .rest else { throw .unsupportedAPIType(conf.type.rawValue) }
        var context = BundleContext(conf: conf, organization: organization, options: options)
        let definitionData = try converter.definitionForBundle(definition, conf: conf)
        try context.addDefinition(definitionData)
        try context.addScopes()
        try context.addAPILevelPolicies()
        var routeRefs: [DeploymentEnvironment: [String]] = [:]
        for environment in DeploymentEnvironment.allCases {
            routeRefs[environment] = try context.addRoutes(for: environment)
        }
        let api = try context.apiResource(routeRefs: routeRefs)
        return CRBundle(apiID: context.apiID, organization: organization, resources: [api] + context.orderedChildren())
    }

    static func checkOrganization(_ organization: String) throws(APKError) {
        guard organization.count <= 63,
            organization.range(of: organizationPattern, options: .regularExpression) != nil
        else { throw .invalidOrganization(organization) }
    }
}

extension APKError {
    /// 909062 / 400 (ours): the organization cannot be used (it becomes a DNS label of the API's hostnames).
    package static func invalidOrganization(_ organization: String) -> APKError {
        APKError(
            code: 909062, status: 400, message: "Invalid organization",
            detail: "Organization [\(organization.prefix(80))] must be 1-63 lower-case letters, digits or '-'")
    }
}
