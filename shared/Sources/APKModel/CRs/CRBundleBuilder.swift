package import Foundation

/// apk-conf + definition → the CR bundle of contract §5.2–5.4. Pure and deterministic: same input, same bytes.
package struct CRBundleBuilder: Sendable {
    package struct Options: Sendable, Hashable {
        /// Gateway the HTTPRoutes attach to (`parentRefs`).
        package var gatewayName = "wso2-apk-default"
        /// Production virtual hosts; routes get `<org>[-<env>].<vhost>` (§5.4).
        package var productionVhosts = ["gw.wso2.com"]
        /// Sandbox virtual hosts.
        package var sandboxVhosts = ["sandbox.gw.wso2.com"]
        /// Namespace written into metadata, if any.
        package var namespace: String?

        package init() {}
    }

    package var options: Options
    package var converter: OpenAPIConverter

    package init(options: Options = Options(), converter: OpenAPIConverter = OpenAPIConverter()) {
        self.options = options
        self.converter = converter
    }

    /// Builds every resource for `conf` deployed in `organization`. STUB: being implemented.
    package func build(conf: ApkConf, definition: Data?, organization: String) throws(APKError) -> CRBundle {
        throw .internalError("not implemented")
    }
}
