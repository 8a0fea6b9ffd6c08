package import APKModel
package import AsyncHTTPClient
package import Foundation
package import Logging
import NIOCore
import NIOHTTP1

/// Fetches an API definition from a user-supplied `url` (contract §2.1), bounded in scheme, redirects, time and
/// size. Every failure is ``APKError/invalidDefinitionURL(_:)`` (909044 / 406).
///
/// Only `http` and `https` URLs; at most 3 redirects, never to another scheme (AsyncHTTPClient refuses redirects
/// from http(s) to anything but http(s)); the whole exchange, body included, must finish within `timeout`; bodies
/// above `maxBytes` are abandoned as soon as they pass the limit. The URL itself is never logged (it may carry
/// credentials); only its host is.
package struct DefinitionFetcher: Sendable {
    package let client: HTTPClient
    package var timeout: Duration
    package var maxBytes: Int

    package init(client: HTTPClient, timeout: Duration, maxBytes: Int) {
        self.client = client
        self.timeout = timeout
        self.maxBytes = maxBytes
    }

    /// The client configuration the fetcher expects: 3 redirects without cycles, no decompression, and a refused
    /// connection reported at once (AsyncHTTPClient otherwise retries it until the deadline).
    package static func clientConfiguration(timeout: Duration) -> HTTPClient.Configuration {
        let amount = TimeAmount.nanoseconds(timeout.nanoseconds)
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 3, allowCycles: false),
            timeout: .init(connect: amount, read: amount), decompression: .disabled)
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    private struct TimedOut: Error {}

    /// The body of a 200 response to `GET text`.
    package func fetch(_ text: String, logger: Logger) async throws(APKError) -> Data {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else { throw .invalidDefinitionURL("only absolute http and https URLs are supported") }
        var logger = logger
        logger[metadataKey: "url.host"] = .string(host)
        do {
            return try await withThrowingTaskGroup(of: Data.self) { group in
                group.addTask { try await download(text) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw TimedOut()
                }
                defer { group.cancelAll() }
                // The first child to finish decides: the body, or the timeout / a failure.
                guard let data = try await group.next() else { throw TimedOut() }
                return data
            }
        } catch let error as APKError {
            logger.info("definition URL rejected", metadata: ["error.description": .string(error.detail)])
            throw error
        } catch is TimedOut {
            logger.info("definition URL timed out")
            throw .invalidDefinitionURL("no complete response within \(timeout)")
        } catch {
            logger.info("definition URL unreachable", metadata: ["error.type": .string(String(describing: type(of: error)))])
            throw .invalidDefinitionURL("the URL could not be fetched (\(Self.describe(error)))")
        }
    }

    private func download(_ url: String) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers.add(name: "Accept", value: "application/json, application/yaml, text/yaml, */*")
        let response = try await client.execute(request, timeout: .nanoseconds(Int64(clamping: timeout.nanoseconds)))
        guard response.status == .ok else {
            throw APKError.invalidDefinitionURL("the URL answered HTTP \(response.status.code), expected 200")
        }
        if let length = response.headers.first(name: "Content-Length").flatMap({ Int($0) }), length > maxBytes {
            throw APKError.invalidDefinitionURL("the definition is larger than \(maxBytes) bytes")
        }
        var body = ByteBuffer()
        for try await chunk in response.body {
            guard body.readableBytes + chunk.readableBytes <= maxBytes else {
                throw APKError.invalidDefinitionURL("the definition is larger than \(maxBytes) bytes")
            }
            body.writeImmutableBuffer(chunk)
        }
        return Data(body.readableBytesView)
    }

    /// A short, secret-free description of a transport failure.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return String(describing: error) }
        return String(describing: type(of: error))
    }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
