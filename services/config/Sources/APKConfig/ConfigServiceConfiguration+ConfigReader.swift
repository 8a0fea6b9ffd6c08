import APKModel
import APKRuntime
package import APKSupport
import APKConversion

extension ConfigServiceConfiguration {
    /// Reads the configuration from environment variables (``ConfigReader``):
    ///
    /// | key | variable | type | default |
    /// |---|---|---|---|
    /// | `http.host` | `HTTP_HOST` | string | `127.0.0.1` |
    /// | `http.port` | `HTTP_PORT` | int 0–65535 | `9443` |
    /// | `tls.certificate` | `TLS_CERTIFICATE` | PEM chain path | unset: plain HTTP |
    /// | `tls.key` | `TLS_KEY` | PEM key path | unset: plain HTTP |
    /// | `limits.max.body.bytes` | `LIMITS_MAX_BODY_BYTES` | int 1024…268435456 (256 MiB) | `10485760` (10 MiB) |
    /// | `url.fetch.timeout` | `URL_FETCH_TIMEOUT` | duration | `10s` |
    /// | `url.fetch.max.bytes` | `URL_FETCH_MAX_BYTES` | int ≥ 1 | `10485760` (10 MiB) |
    /// | `url.fetch.allow` | `URL_FETCH_ALLOW` | host names, addresses, CIDRs a `url` may reach (README) | empty |
    /// | `log.level` | `LOG_LEVEL` | swift-log level | `info` |
    /// | `gateway.name` | `GATEWAY_NAME` | string | `wso2-apk-default` |
    /// | `gateway.vhosts.production` | `GATEWAY_VHOSTS_PRODUCTION` | comma list | `gw.wso2.com` |
    /// | `gateway.vhosts.sandbox` | `GATEWAY_VHOSTS_SANDBOX` | comma list | `sandbox.gw.wso2.com` |
    package init(reader: ConfigReader) throws(ConfigReader.Failure) {
        self.init()
        server = try HTTPServerSettings(reader: reader, defaultHost: server.host, defaultPort: server.port)
        maxBodyBytes = try reader.int("limits.max.body.bytes", default: maxBodyBytes, range: 1024...HTTPServerSettings.maxBodyBytesCeiling)
        urlFetchTimeout = try reader.duration("url.fetch.timeout", default: urlFetchTimeout)
        urlFetchMaxBytes = try reader.int("url.fetch.max.bytes", default: urlFetchMaxBytes, range: 1...Int(Int32.max))
        do {
            urlFetchPolicy = try AddressPolicy(allowList: reader.list("url.fetch.allow", default: []))
        } catch {
            throw ConfigReader.Failure(
                key: "url.fetch.allow",
                reason: "\"\(error.entry)\" is neither a host name nor an address or CIDR range (IPv4 as a dotted quad)")
        }
        logLevel = try APKLogging.level(from: reader)
        bundle.gatewayName = reader.string("gateway.name", default: bundle.gatewayName)
        bundle.productionVhosts = reader.list("gateway.vhosts.production", default: bundle.productionVhosts)
        bundle.sandboxVhosts = reader.list("gateway.vhosts.sandbox", default: bundle.sandboxVhosts)
    }
}
