import APKConfig
import APKModel
import APKSupport
import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// No SSRF through `url` (issue 14 item 2): refused addresses in every spelling, DNS names checked on every resolved
/// address and pinned, redirects re-checked, and the operator's allow-list.
@Suite struct SSRFTests {
    // MARK: fakes

    /// A connector that records every connection it is asked for and never touches the network.
    final class RecordingConnector: PinnedConnector {
        struct NoNetwork: Error {}
        let calls = Mutex<[IPAddress]>([])
        var addresses: [IPAddress] { calls.withLock { $0 } }

        func get<T: Sendable>(
            _ url: URL, connectingTo address: IPAddress, timeout: Duration,
            _ handle: @Sendable (HTTPClientResponse) async throws -> T
        ) async throws -> T {
            calls.withLock { $0.append(address) }
            throw NoNetwork()
        }
    }

    /// DNS in a table: each name answers its lists in turn (the last one repeats), and every lookup is counted.
    final class FakeResolver: HostResolver {
        let answers: [String: [[IPAddress]]]
        let lookups = Mutex<[String]>([])
        var count: Int { lookups.withLock { $0.count } }

        init(_ answers: [String: [[String]]]) {
            self.answers = answers.mapValues { $0.map { $0.compactMap { IPAddress(literal: $0) } } }
        }

        struct NotFound: Error {}

        func addresses(of host: String) async throws -> [IPAddress] {
            let index = lookups.withLock { lookups in
                lookups.append(host)
                return lookups.filter { $0 == host }.count - 1
            }
            guard let lists = answers[host], let last = lists.last else { throw NotFound() }
            return index < lists.count ? lists[index] : last
        }
    }

    private func makeFetcher(
        connector: any PinnedConnector = RecordingConnector(), resolver: any HostResolver = FakeResolver([:]),
        allow: [String] = [], timeout: Duration = .seconds(60)
    ) throws -> DefinitionFetcher {
        DefinitionFetcher(
            connector: connector, resolver: resolver, policy: try AddressPolicy(allowList: allow), timeout: timeout,
            maxBytes: 1 << 20)
    }

    private func expectNotAllowed(
        _ fetcher: DefinitionFetcher, _ url: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        await #expect(sourceLocation: sourceLocation) {
            try await fetcher.fetch(url, logger: TestConfig.logger)
        } throws: { error in
            guard let error = error as? APKError else { return false }
            return error.code == 909044 && error.status == 406
                && error.detail == "Invalid url provided for openapi definition: \(DefinitionFetcher.notAllowed)"
        }
    }

    // MARK: address literals in every spelling

    /// Every spelling of a refused address: loopback, RFC 1918, CGNAT, link-local and cloud metadata, multicast,
    /// broadcast, unspecified, reserved and documentation ranges, written as decimal, hex, octal, short forms, and
    /// IPv6 (mapped, compatible, NAT64, 6to4, ULA, link-local).
    static let refusedURLs = [
        "http://127.0.0.1/", "https://127.0.0.1/", "http://127.0.0.1:8080/x.yaml", "http://127.255.255.254/",
        "http://user:secret@127.0.0.1/", "http://127.0.0.1./", "http://127.000.000.001/",
        "http://2130706433/", "http://0x7f000001/", "http://0X7F000001/", "http://0x7f.0.0.1/", "http://0x7f.0x0.0x0.0x1/",
        "http://0177.0.0.1/", "http://017700000001/", "http://0177.1/",
        "http://127.1/", "http://127.0.1/", "http://10.1/", "http://0/", "http://0x0/",
        "http://10.0.0.1/", "http://10.255.255.255/", "http://172.16.0.1/", "http://172.31.255.255/", "http://192.168.1.1/",
        "http://3232235777/", "http://0xc0a80101/",
        "http://100.64.0.1/", "http://100.127.255.254/",
        "http://169.254.169.254/latest/meta-data/", "http://2852039166/", "http://0xa9fea9fe/", "http://169.254.1.1/",
        "http://224.0.0.1/", "http://239.255.255.250/", "http://255.255.255.255/", "http://4294967295/",
        "http://0.0.0.0/", "http://0.1.2.3/", "http://240.0.0.1/",
        "http://192.0.0.1/", "http://192.0.2.1/", "http://198.18.0.1/", "http://198.51.100.1/", "http://203.0.113.1/",
        "http://[::1]/", "http://[0:0:0:0:0:0:0:1]/", "http://[::]/", "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[::ffff:10.0.0.1]/", "http://[::ffff:a9fe:a9fe]/",
        "http://[::127.0.0.1]/", "http://[::7f00:1]/", "http://[::10.0.0.1]/", "http://[::8.8.8.8]/",
        "http://[64:ff9b::127.0.0.1]/", "http://[64:ff9b::a00:1]/", "http://[64:ff9b::169.254.169.254]/",
        "http://[64:ff9b:1::8.8.8.8]/",
        "http://[2002:7f00:1::]/", "http://[2002:a9fe:a9fe::1]/", "http://[2002:c0a8:101::1]/", "http://[2002:a00:1::]/",
        "http://[fc00::1]/", "http://[fd12:3456::1]/", "http://[fe80::1]/", "http://[febf::1]/", "http://[fec0::1]/",
        "http://[ff02::1]/", "http://[ff05::1:3]/", "http://[2001:db8::1]/", "http://[2001::1]/", "http://[100::1]/",
    ]

    @Test(arguments: refusedURLs)
    func refusedWithoutAnyConnection(url: String) async throws {
        let connector = RecordingConnector()
        let resolver = FakeResolver([:])
        await expectNotAllowed(try makeFetcher(connector: connector, resolver: resolver), url)
        #expect(connector.addresses.isEmpty, "a refused address must never be connected to")
        #expect(resolver.count == 0, "an address literal is never looked up")
    }

    /// Hosts meant as numbers that are no valid address: refused as invalid, never looked up as names.
    @Test(arguments: ["http://1.2.3.4.5/", "http://0x100000000/", "http://256.0.0.1/", "http://4294967296/", "http://08.0.0.1/"])
    func invalidNumericHostsAreNeverLookedUp(url: String) async throws {
        let connector = RecordingConnector()
        let resolver = FakeResolver([:])
        let fetcher = try makeFetcher(connector: connector, resolver: resolver)
        await #expect(throws: APKError.self) { try await fetcher.fetch(url, logger: TestConfig.logger) }
        #expect(connector.addresses.isEmpty)
        #expect(resolver.count == 0)
    }

    @Test func refusalNeverEchoesTheURL() async throws {
        let fetcher = try makeFetcher()
        do {
            _ = try await fetcher.fetch("http://admin:hunter2@169.254.169.254/latest?token=abc", logger: TestConfig.logger)
            Issue.record("fetched")
        } catch {
            #expect(!error.detail.contains("hunter2") && !error.detail.contains("169.254") && !error.detail.contains("abc"))
        }
    }

    /// The policy alone: public addresses (also inside mapped / NAT64 / 6to4 forms) stay allowed.
    @Test(arguments: ["8.8.8.8", "93.184.216.34", "1.1.1.1", "100.63.255.255", "100.128.0.0", "172.32.0.1",
                      "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1"])
    func publicAddressesAreAllowed(address: String) throws {
        let parsed = try #require(IPAddress(literal: address))
        #expect(AddressPolicy().refusal(of: parsed) == nil)
    }

    @Test func builtInRangesParse() {
        #expect(AddressPolicy.v4Ranges.count == 16)
        #expect(AddressPolicy.v6Ranges.count == 9)
        #expect(AddressPolicy.refusedClass(of: .v4(0xA9FE_A9FE)) == .linkLocal)
        #expect(AddressPolicy.refusedClass(of: .v4(0xFFFF_FFFF)) == .broadcast)
    }

    // MARK: DNS names

    @Test(arguments: [["10.0.0.5"], ["169.254.169.254"], ["::1"], ["93.184.216.34", "10.0.0.5"], ["2606:4700::1", "fd00::1"]])
    func nameResolvingToARefusedAddressIsRefused(answer: [String]) async throws {
        let connector = RecordingConnector()
        let resolver = FakeResolver(["internal.example": [answer]])
        await expectNotAllowed(try makeFetcher(connector: connector, resolver: resolver), "http://internal.example/api.yaml")
        #expect(connector.addresses.isEmpty, "every resolved address is checked before any connection")
        #expect(resolver.count == 1)
    }

    @Test func nameResolvingToPublicAddressesConnectsToTheCheckedOne() async throws {
        let connector = RecordingConnector()
        let resolver = FakeResolver(["api.example": [["93.184.216.34", "2606:2800:220:1::1"], ["127.0.0.1"]]])
        let fetcher = try makeFetcher(connector: connector, resolver: resolver)
        await #expect(throws: APKError.self) { try await fetcher.fetch("https://api.example/x", logger: TestConfig.logger) }
        #expect(connector.addresses == [.v4(0x5DB8_D822)], "the connection goes to the checked address")
        #expect(resolver.count == 1, "the name is resolved once per hop, by the checker")
    }

    @Test func unresolvableNameIsRefused() async throws {
        let connector = RecordingConnector()
        let fetcher = try makeFetcher(connector: connector, resolver: FakeResolver(["empty.example": [[]]]))
        for url in ["http://missing.example/", "http://empty.example/"] {
            await #expect(throws: APKError.self) { try await fetcher.fetch(url, logger: TestConfig.logger) }
        }
        #expect(connector.addresses.isEmpty)
    }

    /// The real resolver: `localhost` (from /etc/hosts) is loopback, refused.
    @Test func localhostIsRefused() async throws {
        let connector = RecordingConnector()
        let fetcher = DefinitionFetcher(connector: connector, policy: AddressPolicy(), timeout: .seconds(60), maxBytes: 1024)
        await expectNotAllowed(fetcher, "http://localhost/")
        #expect(connector.addresses.isEmpty)
    }

    // MARK: real connections (a local server on 127.0.0.1:0)

    /// Loopback spellings through the production connector and resolver: the listener never sees a connection.
    @Test func listenerIsNeverContacted() async throws {
        let listener = try await CountingListener.start()
        let port = listener.port
        let fetcher = DefinitionFetcher(policy: AddressPolicy(), timeout: .seconds(5), maxBytes: 1024)
        for url in [
            "http://127.0.0.1:\(port)/", "http://2130706433:\(port)/", "http://0x7f000001:\(port)/",
            "http://0x7f.0.0.1:\(port)/", "http://0177.0.0.1:\(port)/", "http://127.1:\(port)/", "http://[::1]:\(port)/",
            "http://[::ffff:127.0.0.1]:\(port)/", "http://[::ffff:7f00:1]:\(port)/", "http://localhost:\(port)/",
        ] {
            await expectNotAllowed(fetcher, url)
        }
        // Control: the same listener does see a connection from an allowed fetch (it closes it at once).
        let allowed = DefinitionFetcher(policy: TestConfig.loopbackAllowed, timeout: .seconds(60), maxBytes: 1024)
        await #expect(throws: APKError.self) { try await allowed.fetch("http://127.0.0.1:\(port)/", logger: TestConfig.logger) }
        let accepted = listener.accepted
        try await listener.stop()
        #expect(accepted == 1, "only the allowed fetch reached the listener")
    }

    @Test func allowListLetsLoopbackThrough() async throws {
        try await LocalDefinitions.withServer { server in
            let url = "http://127.0.0.1:\(server.port)/def"
            await expectNotAllowed(try makeFetcher(connector: HTTPPinnedConnector()), url)
            for allow in [["127.0.0.1"], ["127.0.0.0/8"]] {
                let fetcher = try makeFetcher(connector: HTTPPinnedConnector(), allow: allow)
                let data = try await fetcher.fetch(url, logger: TestConfig.logger)
                #expect(String(decoding: data, as: UTF8.self) == Samples.petstore, "allow \(allow)")
            }
            #expect(server.definitionHits == 2)
        }
    }

    /// DNS rebinding: the name first resolves to an allowed address, then to a private one. The connection goes to
    /// the checked address with the original `Host` (the client does not resolve the name again: `.test` names do not
    /// exist in real DNS), and a later hop that resolves to the private address is refused.
    @Test func rebindingCannotBypassTheCheck() async throws {
        try await LocalDefinitions.withServer { server in
            let resolver = FakeResolver(["rebind.test": [["127.0.0.1"], ["10.0.0.1"]]])
            let fetcher = try makeFetcher(connector: HTTPPinnedConnector(), resolver: resolver, allow: ["127.0.0.1/32"])
            let host = try await fetcher.fetch("http://rebind.test:\(server.port)/host", logger: TestConfig.logger)
            #expect(String(decoding: host, as: UTF8.self) == "rebind.test:\(server.port)")
            #expect(resolver.count == 1)

            // The second lookup answers 10.0.0.1: the redirect back to the same name is refused, not followed.
            await expectNotAllowed(fetcher, "http://rebind.test:\(server.port)/to?url=/host")
            #expect(resolver.count == 2)
        }
    }

    /// An allowed server redirecting to 127.0.0.1 (not allowed): refused, and the target is never requested.
    @Test func redirectToLoopbackIsRefused() async throws {
        try await LocalDefinitions.withServer { server in
            let resolver = FakeResolver(["definitions.test": [["127.0.0.1"]]])
            let target = "http://127.0.0.1:\(server.port)/def"
            let start = "http://definitions.test:\(server.port)/to?url=\(target)"
            let fetcher = try makeFetcher(connector: HTTPPinnedConnector(), resolver: resolver, allow: ["definitions.test"])
            await expectNotAllowed(fetcher, start)
            #expect(server.redirectHits == 1)
            #expect(server.definitionHits == 0, "the redirect target was not requested")

            // Control: with 127.0.0.1 allowed too, the same redirect is followed.
            let open = try self.makeFetcher(
                connector: HTTPPinnedConnector(), resolver: resolver, allow: ["definitions.test", "127.0.0.1"])
            let data = try await open.fetch(start, logger: TestConfig.logger)
            #expect(String(decoding: data, as: UTF8.self) == Samples.petstore)
            #expect(server.definitionHits == 1)
        }
    }

    /// Through the REST API with the production default: 406 / 909044 naming no address.
    @Test func restRefusalIs406() async throws {
        var body = MultipartBody()
        body.text("url", "http://user:pw@[::ffff:169.254.169.254]/latest/meta-data/")
        let (headers, buffer) = (body.headers, body.buffer)
        let response = try await TestConfig.app(TestConfig.configuration()).test(.router) { client in
            try await client.execute(
                uri: "/api/configurator/apis/generate-configuration", method: .post, headers: headers, body: buffer)
        }
        #expect(response.status.code == 406)
        let text = String(buffer: response.body)
        #expect(text.hasPrefix(#"{"code":909044,"message":"Invalid url provided for openapi definition""#))
        #expect(text.contains("address is not allowed") && !text.contains("pw") && !text.contains("169.254"), "\(text)")
    }

    // MARK: configuration

    @Test func allowListIsReadFromTheEnvironment() throws {
        let reader = ConfigReader(environment: ["URL_FETCH_ALLOW": " Defs.Internal., 10.0.0.0/8 ,127.0.0.1, fd00::/8"])
        let configuration = try ConfigServiceConfiguration(reader: reader)
        let policy = configuration.urlFetchPolicy
        #expect(policy.allowedHosts == ["defs.internal"])
        #expect(policy.allowedNetworks.map(\.description) == ["10.0.0.0/8", "127.0.0.1/32", "fd00::/8"])
        #expect(policy.allows(host: "DEFS.internal."))
        #expect(policy.refusal(of: .v4(0x0A01_0203)) == nil)
        #expect(policy.refusal(of: .v4(0xC0A8_0001)) == .private)
        #expect(try ConfigServiceConfiguration(reader: ConfigReader(environment: [:])).urlFetchPolicy == AddressPolicy())
    }

    @Test(arguments: [
        "10.0.0.0/33", "127.1", "0x7f000001", "0x7f.0.0.1/32", "0177.0.0.1", "010.0.0.1", "10.0.0.0/8/8", "bad host",
        "fd00::/129", "*.internal",
    ])
    func invalidAllowListEntriesStopStartUp(entry: String) {
        #expect(throws: ConfigReader.Failure.self) {
            try ConfigServiceConfiguration(reader: ConfigReader(environment: ["URL_FETCH_ALLOW": entry]))
        }
    }
}

/// A TCP listener on 127.0.0.1:0 that counts the connections it accepts and closes each at once.
struct CountingListener {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    let channel: any Channel
    let counter: Counter
    var port: Int { channel.localAddress?.port ?? 0 }
    var accepted: Int { counter.value.load(ordering: .sequentiallyConsistent) }

    static func start() async throws -> CountingListener {
        let counter = Counter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                counter.value.add(1, ordering: .sequentiallyConsistent)
                return channel.close()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return CountingListener(channel: channel, counter: counter)
    }

    func stop() async throws { try await channel.close() }
}

/// A live server on 127.0.0.1:0: `/def` (the petstore, counted), `/host` (the request's `Host` header) and
/// `/to?url=…` (a 302 to `url`, counted).
struct LocalDefinitions: Sendable {
    final class Hits: Sendable {
        let definition = Atomic<Int>(0)
        let redirect = Atomic<Int>(0)
    }

    let port: Int
    let hits: Hits
    var definitionHits: Int { hits.definition.load(ordering: .sequentiallyConsistent) }
    var redirectHits: Int { hits.redirect.load(ordering: .sequentiallyConsistent) }

    static func withServer<T: Sendable>(_ body: @Sendable (LocalDefinitions) async throws -> T) async throws -> T {
        let hits = Hits()
        let router = Router()
        router.get("def") { _, _ in
            hits.definition.add(1, ordering: .sequentiallyConsistent)
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: Samples.petstore)))
        }
        router.get("host") { request, _ in
            Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: request.head.authority ?? "")))
        }
        router.get("to") { request, _ in
            hits.redirect.add(1, ordering: .sequentiallyConsistent)
            return Response(status: .found, headers: [.location: request.uri.queryParameters.get("url") ?? "/"])
        }
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: TestConfig.logger)
        return try await app.test(.live) { client in
            try await body(LocalDefinitions(port: client.port ?? 0, hits: hits))
        }
    }
}
