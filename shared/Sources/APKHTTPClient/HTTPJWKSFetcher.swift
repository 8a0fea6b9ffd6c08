import APKAuth
import APKSupport
package import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOSSL

/// Fetches JWKS documents with AsyncHTTPClient: GET, 200 only, bounded size and time.
package struct HTTPJWKSFetcher: JWKSFetcher {
    /// A non-200 answer.
    package struct StatusFailure: Error, CustomStringConvertible {
        package var status: Int
        package var description: String { "JWKS endpoint answered HTTP \(status)" }
    }

    private let client: HTTPClient
    private let timeout: Duration
    private let maxBytes: Int

    package init(client: HTTPClient, timeout: Duration, maxBytes: Int = 1 << 20) {
        self.client = client
        self.timeout = timeout
        self.maxBytes = maxBytes
    }

    /// A `trustedCA` that holds no certificate.
    package struct TrustedCAFailure: Error, CustomStringConvertible {
        package var description: String { "the trusted CA of the JWKS server is not a PEM certificate" }
    }

    package func fetchJWKS(from url: String, trustedCA: String?) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        if let trustedCA {
            let roots = (try? NIOSSLCertificate.fromPEMBytes(Array(trustedCA.utf8))) ?? []
            guard !roots.isEmpty else { throw TrustedCAFailure() }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(roots)
            request.tlsConfiguration = tls
        }
        let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout.seconds * 1000)))
        guard response.status.code == 200 else { throw StatusFailure(status: Int(response.status.code)) }
        let body = try await response.body.collect(upTo: maxBytes)
        return Array(body.readableBytesView)
    }

    /// Runs `body` with a fetcher on a client of its own, shut down afterwards (tools and tests; services share
    /// one client through ``HTTPClientService``).
    package static func withTemporaryClient<T: Sendable>(
        timeout: Duration, _ body: (HTTPJWKSFetcher) async throws -> T
    ) async throws -> T {
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        do {
            let result = try await body(HTTPJWKSFetcher(client: client, timeout: timeout))
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
