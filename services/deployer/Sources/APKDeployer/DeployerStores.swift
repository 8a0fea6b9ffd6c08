package import APKStore
package import ServiceLifecycle

/// The stores behind the deployer, and the services (connection pools) that must run for them.
package struct DeployerStores: Sendable {
    package var resources: any ResourceStore
    package var controlPlane: any ControlPlaneStore
    /// Started before the HTTP server, stopped after it.
    package var services: [any Service]

    package init(resources: any ResourceStore, controlPlane: any ControlPlaneStore, services: [any Service] = []) {
        self.resources = resources
        self.controlPlane = controlPlane
        self.services = services
    }
}
