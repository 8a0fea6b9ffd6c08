/// The scopes the deployer's own endpoints accept (README.md § Endpoints).
package enum DeployerScope {
    /// Deploy, undeploy; also every view and key endpoint.
    package static let apiCreate = "apk:api_create"
    /// Listing APIs.
    package static let apiView = "apk:api_view"
    /// Minting internal keys (`generate-key`).
    package static let subscribe = "apk:subscribe"
    /// Client management (`/dcr/register`). Never granted through the `*` wildcard of a client's allowed scopes:
    /// only a client that lists it explicitly may have it.
    package static let admin = "apk:admin"
}
