import APKModel
package import APKRuntime
package import Logging
package import APKConversion
import APKSupport

/// Everything the config service reads at start-up. Defaults serve plain HTTP on loopback (see
/// `ConfigServiceConfiguration+ConfigReader.swift` for the environment keys).
package struct ConfigServiceConfiguration: Sendable {
    /// Listen address and TLS; default `127.0.0.1:9443`, plain HTTP.
    package var server = HTTPServerSettings(host: "127.0.0.1", port: 9443)
    /// Largest accepted request body (multipart upload), in bytes.
    package var maxBodyBytes = 10 << 20
    /// Total time allowed for fetching a `url` definition (connect, redirects and body).
    package var urlFetchTimeout: Duration = .seconds(10)
    /// Largest accepted definition fetched from a `url`, in bytes.
    package var urlFetchMaxBytes = 10 << 20
    /// Which addresses a `url` may reach: by default no loopback, private, link-local, multicast or reserved
    /// address (no SSRF); the operator's allow-list (`url.fetch.allow`) opens host names and ranges.
    package var urlFetchPolicy = AddressPolicy()
    /// Limits of the multipart parser.
    package var multipart = MultipartParser.Limits()
    /// Gateway name and virtual hosts written into generated CRs.
    package var bundle = CRBundleBuilder.Options()
    package var logLevel: Logger.Level = .info

    package init() {}
}
