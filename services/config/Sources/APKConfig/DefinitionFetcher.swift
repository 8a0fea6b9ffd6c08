import APKSupport
package import APKModel
import AsyncHTTPClient
package import Foundation
package import Logging
import NIOCore
import NIOHTTP1

/// Fetches an API definition from a user-supplied `url` (contract §2.1), bounded in scheme, address, redirects, time
/// and size. Every failure is ``APKError/invalidDefinitionURL(_:)`` (909044 / 406).
///
/// - Only `http` and `https` URLs, at every hop.
/// - No SSRF (issue 14): each hop's host is turned into addresses first — an address literal in any spelling
///   (``IPAddress/init(literal:)``), or a DNS name through ``resolver``, every resolved address checked — and refused
///   when ``policy`` refuses one of them (loopback, private, link-local, …: ``AddressPolicy``). The connection then
///   goes to the checked address only (``PinnedConnector``), so a name cannot resolve elsewhere between check and
///   connect (DNS rebinding).
/// - Redirects are followed here, not by the HTTP client: at most ``maxRedirects``, no cycles, each target checked
///   as above.
/// - The whole exchange, lookups and body included, must finish within `timeout`; bodies above `maxBytes` are
///   abandoned as soon as they pass the limit.
///
/// The URL itself is never logged or echoed (it may carry credentials); only its host is logged.
package struct DefinitionFetcher: Sendable {
    package var connector: any PinnedConnector
    package var resolver: any HostResolver
    package var policy: AddressPolicy
    package var timeout: Duration
    package var maxBytes: Int

    /// Redirects followed at most (a 4th is refused).
    package static let maxRedirects = 3

    package init(
        connector: any PinnedConnector = HTTPPinnedConnector(), resolver: any HostResolver = SystemHostResolver(),
        policy: AddressPolicy, timeout: Duration, maxBytes: Int
    ) {
        self.connector = connector
        self.resolver = resolver
        self.policy = policy
        self.timeout = timeout
        self.maxBytes = maxBytes
    }

    private struct TimedOut: Error {}

    /// One hop's answer: the definition, or where it redirects to.
    private enum Outcome: Sendable {
        case body(Data)
        case redirect(String)
    }

    /// The body of a 200 response to `GET text`.
    package func fetch(_ text: String, logger: Logger) async throws(APKError) -> Data {
        guard let url = DefinitionURL.httpURL(text) else {
            throw .invalidDefinitionURL("only absolute http and https URLs are supported")
        }
        var logger = logger
        logger[metadataKey: "url.host"] = .string(DefinitionURL.clientHost(of: url))
        do {
            return try await withThrowingTaskGroup(of: Data.self) { [logger] group in
                group.addTask { try await follow(url, logger: logger) }
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

    /// Checks, pins and fetches `start`, then each redirect target in turn.
    private func follow(_ start: URL, logger: Logger) async throws -> Data {
        var url = start
        var visited: Set<String> = [start.absoluteString]
        for hop in 0...Self.maxRedirects {
            let address = try await checkedAddress(of: url, logger: logger)
            let outcome = try await connector.get(url, connectingTo: address, timeout: timeout) { response in
                try await read(response)
            }
            switch outcome {
            case .body(let data):
                return data
            case .redirect(let location):
                guard hop < Self.maxRedirects else {
                    throw APKError.invalidDefinitionURL("more than \(Self.maxRedirects) redirects")
                }
                guard let next = URL(string: location, relativeTo: url).flatMap({ DefinitionURL.httpURL($0.absoluteString) })
                else { throw APKError.invalidDefinitionURL("a redirect to something other than an http or https URL") }
                guard visited.insert(next.absoluteString).inserted else {
                    throw APKError.invalidDefinitionURL("a redirect cycle")
                }
                url = next
            }
        }
        throw APKError.invalidDefinitionURL("more than \(Self.maxRedirects) redirects")
    }

    /// The one address to connect to for `url`, after checking it (and, for a DNS name, every address the name
    /// resolves to) against ``policy``.
    private func checkedAddress(of url: URL, logger: Logger) async throws -> IPAddress {
        let host = DefinitionURL.clientHost(of: url)
        guard !host.isEmpty, !host.contains("%") else { throw APKError.invalidDefinitionURL("the URL's host is not valid") }
        let hostAllowed = policy.allows(host: host)
        if let literal = IPAddress(literal: host) {
            try refuseIfNeeded([literal], hostAllowed: hostAllowed, logger: logger)
            return literal
        }
        // A host that is meant as a number but is not a valid address (`1.2.3.4.5`, `0x1ffffffff`) is never looked up.
        guard !host.contains(":"), !IPAddress.looksNumeric(host) else {
            throw APKError.invalidDefinitionURL("the URL's host is not a valid address")
        }
        let addresses: [IPAddress]
        do {
            addresses = try await resolver.addresses(of: host)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.info("definition URL host not resolved", metadata: ["error.description": .string("\(error)")])
            throw APKError.invalidDefinitionURL("the URL's host name could not be resolved")
        }
        guard let first = addresses.first else {
            throw APKError.invalidDefinitionURL("the URL's host name could not be resolved")
        }
        try refuseIfNeeded(addresses, hostAllowed: hostAllowed, logger: logger)
        return first
    }

    private func refuseIfNeeded(_ addresses: [IPAddress], hostAllowed: Bool, logger: Logger) throws {
        guard !hostAllowed else { return }
        for address in addresses {
            guard let refused = policy.refusal(of: address) else { continue }
            logger.info(
                "definition URL address refused",
                metadata: ["url.address": .string(address.description), "url.address.class": .string(refused.rawValue)])
            throw APKError.invalidDefinitionURL(Self.notAllowed)
        }
    }

    /// The refusal's description (names no address: a caller must not learn what internal names resolve to).
    package static let notAllowed =
        "the address is not allowed (loopback, private, link-local, multicast, broadcast and reserved addresses are refused)"

    /// Reads one response: a redirect's target, or a 200's body within `maxBytes`.
    private func read(_ response: HTTPClientResponse) async throws -> Outcome {
        if [301, 302, 303, 307, 308].contains(response.status.code) {
            guard let location = response.headers.first(name: "Location"), !location.isEmpty else {
                throw APKError.invalidDefinitionURL("the URL answered HTTP \(response.status.code) without a Location")
            }
            return .redirect(location)
        }
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
        return .body(Data(body.readableBytesView))
    }

    /// A short, secret-free description of a transport failure.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return String(describing: error) }
        return String(describing: type(of: error))
    }
}

/// How the fetcher and AsyncHTTPClient read a definition URL (they must agree on the host).
package enum DefinitionURL {
    /// `text` as an absolute `http`/`https` URL with a host, in the form AsyncHTTPClient will parse again (its
    /// `absoluteString` must give the same host), or nil.
    package static func httpURL(_ text: String) -> URL? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty,
            let reparsed = URL(string: url.absoluteString), reparsed.host == host
        else { return nil }
        return url
    }

    /// The host as AsyncHTTPClient takes it from the URL (IPv6 brackets trimmed): the key of its `dnsOverride`.
    package static func clientHost(of url: URL) -> String {
        var host = Substring(url.host ?? "")
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return String(host)
    }
}
