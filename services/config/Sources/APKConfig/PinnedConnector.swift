import APKSupport
package import AsyncHTTPClient
package import Foundation
package import NIOCore
import NIOHTTP1

/// Sends one `GET` to a URL over a connection to an address the fetcher has already checked (injected so tests can
/// prove a refused URL never reaches the network).
package protocol PinnedConnector: Sendable {
    /// `GET url`, connecting only to `address` (the `Host` header and TLS SNI / certificate name stay the URL's
    /// host); redirects are returned, not followed. `handle` reads the response; the connection lives until it returns.
    func get<T: Sendable>(
        _ url: URL, connectingTo address: IPAddress, timeout: Duration,
        _ handle: @Sendable (HTTPClientResponse) async throws -> T
    ) async throws -> T
}

/// The production connector: one short-lived AsyncHTTPClient per request whose `dnsOverride` maps the URL's host to
/// the checked address, so the client never resolves the name itself (no DNS rebinding between check and connect)
/// and no pooled connection to another address can be reused.
package struct HTTPPinnedConnector: PinnedConnector {
    package let eventLoopGroup: any EventLoopGroup

    package init(eventLoopGroup: any EventLoopGroup = HTTPClient.defaultEventLoopGroup) {
        self.eventLoopGroup = eventLoopGroup
    }

    /// No redirects (the fetcher follows them itself, re-checking each hop), no decompression, no retry of a
    /// refused connection (AsyncHTTPClient otherwise retries it until the deadline).
    package static func clientConfiguration(timeout: Duration, host: String, address: IPAddress) -> HTTPClient.Configuration {
        let amount = TimeAmount.nanoseconds(timeout.nanoseconds)
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: amount, read: amount), decompression: .disabled)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.dnsOverride = [host: address.description]
        return configuration
    }

    package func get<T: Sendable>(
        _ url: URL, connectingTo address: IPAddress, timeout: Duration,
        _ handle: @Sendable (HTTPClientResponse) async throws -> T
    ) async throws -> T {
        // AsyncHTTPClient looks the override up under the URL's host as it parses it (brackets trimmed).
        let host = DefinitionURL.clientHost(of: url)
        let client = HTTPClient(
            eventLoopGroup: eventLoopGroup,
            configuration: Self.clientConfiguration(timeout: timeout, host: host, address: address))
        do {
            var request = HTTPClientRequest(url: url.absoluteString)
            request.method = .GET
            request.headers.add(name: "Accept", value: "application/json, application/yaml, text/yaml, */*")
            let response = try await client.execute(request, timeout: .nanoseconds(Int64(clamping: timeout.nanoseconds)))
            let value = try await handle(response)
            try await client.shutdown()
            return value
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
