import APKRuntime
import Foundation
import Hummingbird
import Logging
import Prometheus
import APKSupport
import APKTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 14 item 3: a client cannot tie up a service's HTTP server — headers or a body that never finish close the
/// connection, and connections and requests beyond the caps are refused — checked against a live server on port 0
/// with raw sockets that behave like slow or greedy clients.
@Suite struct ConnectionLimitsTests {
    /// A blocking TCP client on 127.0.0.1, run on a thread of its own (never on the test's cooperative pool).
    final class RawConnection: @unchecked Sendable {
        private let socket: Int32

        init(port: Int) throws {
            socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        }

        deinit { close(socket) }

        func send(_ text: String) {
            _ = text.withCString { Glibc.send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        }

        /// Reads until the server closes the connection (true) or `limit` passes without it (false); what was read.
        func readUntilClosed(limit: Duration = .seconds(30)) async -> (closed: Bool, text: String) {
            await withCheckedContinuation { continuation in
                Thread {
                    var timeout = timeval(tv_sec: Int(limit.components.seconds), tv_usec: 0)
                    setsockopt(self.socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                    var received = Data()
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    while true {
                        let count = recv(self.socket, &buffer, buffer.count, 0)
                        if count > 0 {
                            received.append(contentsOf: buffer[0..<count])
                        } else {
                            // 0: orderly close; ECONNRESET: closed too; EAGAIN: the limit passed, still open.
                            let closed = count == 0 || errno == ECONNRESET
                            continuation.resume(returning: (closed, String(decoding: received, as: UTF8.self)))
                            return
                        }
                    }
                }.start()
            }
        }
    }

    static func settings(_ change: (inout ConnectionLimits) -> Void) -> HTTPServerSettings {
        var limits = ConnectionLimits()
        change(&limits)
        return HTTPServerSettings(host: "127.0.0.1", port: 0, limits: limits)
    }

    /// A live server whose `/slow` waits until `release` is called.
    static func withServer(
        _ settings: HTTPServerSettings, counters: ConnectionCounters,
        _ body: @escaping @Sendable (_ port: Int, _ release: @escaping @Sendable () -> Void) async throws -> Void
    ) async throws {
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        let router = Router()
        router.add(middleware: APKErrorMiddleware())
        router.get("/ok") { _, _ in "ok" }
        router.post("/echo") { request, _ in
            String(buffer: try await request.body.collect(upTo: 1 << 20))
        }
        router.get("/slow") { _, _ -> String in
            for await _ in gate { break }
            return "done"
        }
        // Run by hand, not through HummingbirdTesting's live client: that client opens a connection of its own,
        // which would count against the caps and time out beside the test's.
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = APKServer.application(
            router: router, settings: settings, server: try APKServer.serverBuilder(for: settings, counters: counters),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: Logger(label: "limits-test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            defer { group.cancelAll() }
            try await body(port) { open.yield() }
            open.finish()
        }
    }

    @Test func headersThatNeverFinishAreClosed() async throws {
        let registry = APKMetrics.bootstrap()
        let counters = ConnectionCounters()
        try await Self.withServer(Self.settings { $0.headerTimeout = .seconds(1) }, counters: counters) { port, _ in
            let silent = try RawConnection(port: port)
            let dribbling = try RawConnection(port: port)
            dribbling.send("GET /ok HTTP/1.1\r\nHost: a\r\n")
            // A slowloris client keeps sending header bytes; that does not extend its time.
            for index in 0..<3 {
                try await Task.sleep(for: .milliseconds(400))  // the client's pace, not synchronisation
                dribbling.send("X-Slow-\(index): y\r\n")
            }
            let (silentClosed, _) = await silent.readUntilClosed()
            let (dribblingClosed, text) = await dribbling.readUntilClosed()
            #expect(silentClosed && dribblingClosed)
            #expect(text.isEmpty, "closed without an answer: \(text)")
            #expect(counters.timedOut == 2)
            var metrics: [UInt8] = []
            registry.emit(into: &metrics)
            #expect(String(decoding: metrics, as: UTF8.self).contains(#"apk_http_connections_closed_total{reason="header_timeout"}"#))
        }
    }

    @Test func aBodyThatNeverFinishesIsClosedAndACompleteOneIsServed() async throws {
        let counters = ConnectionCounters()
        try await Self.withServer(Self.settings { $0.bodyTimeout = .seconds(1) }, counters: counters) { port, _ in
            let slow = try RawConnection(port: port)
            slow.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly ten b")
            let (closed, text) = await slow.readUntilClosed()
            #expect(closed && text.isEmpty)
            #expect(counters.timedOut == 1)

            let fine = try RawConnection(port: port)
            fine.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
            let (_, answer) = await fine.readUntilClosed()
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
            #expect(answer.hasSuffix("hello"))
        }
    }

    @Test func keptAliveConnectionsServeSeveralRequestsThenIdleOnesClose() async throws {
        let counters = ConnectionCounters()
        try await Self.withServer(Self.settings { $0.headerTimeout = .seconds(1) }, counters: counters) { port, _ in
            let connection = try RawConnection(port: port)
            connection.send("GET /ok HTTP/1.1\r\nHost: a\r\n\r\nGET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
            let (closed, text) = await connection.readUntilClosed()
            #expect(text.components(separatedBy: "HTTP/1.1 200").count == 3, "two answers: \(text)")
            #expect(closed, "then the idle connection is closed")
            #expect(try await Poll.until { counters.openConnections == 0 && counters.requestsInProgress == 0 })
        }
    }

    /// A pipelined request that waits behind a slow one is not taken for an idle connection.
    @Test func pipelinedRequestsWaitingBehindASlowOneAreServed() async throws {
        let counters = ConnectionCounters()
        try await Self.withServer(Self.settings { $0.headerTimeout = .seconds(1) }, counters: counters) { port, release in
            let connection = try RawConnection(port: port)
            // The first is answered at once; the second (slow) is then still unanswered on a connection with
            // nothing more to read.
            connection.send("GET /ok HTTP/1.1\r\nHost: a\r\n\r\nGET /slow HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            #expect(try await Poll.until { counters.requestsInProgress == 1 })
            try await Task.sleep(for: .milliseconds(1500))  // the scenario: longer than the header timeout passes
            release()
            let (closed, text) = await connection.readUntilClosed()
            #expect(closed)
            #expect(text.components(separatedBy: "HTTP/1.1 200").count == 3, "both answered: \(text)")
        }
    }

    @Test func connectionsBeyondTheCapAreClosed() async throws {
        let counters = ConnectionCounters()
        try await Self.withServer(Self.settings { $0.maxConnections = 2 }, counters: counters) { port, _ in
            let first = try RawConnection(port: port)
            let second = try RawConnection(port: port)
            #expect(try await Poll.until { counters.openConnections == 2 })
            let third = try RawConnection(port: port)
            let (closed, _) = await third.readUntilClosed()
            #expect(closed)
            #expect(counters.overCapacity == 1)
            // The first two still work.
            first.send("GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            second.send("GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            #expect(await first.readUntilClosed().text.hasPrefix("HTTP/1.1 200"))
            #expect(await second.readUntilClosed().text.hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func requestsBeyondTheCapAre503() async throws {
        let counters = ConnectionCounters()
        try await Self.withServer(Self.settings { $0.maxConcurrentRequests = 1 }, counters: counters) { port, release in
            let busy = try RawConnection(port: port)
            busy.send("GET /slow HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            #expect(try await Poll.until { counters.requestsInProgress == 1 })
            let refused = try RawConnection(port: port)
            refused.send("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
            let (closed, text) = await refused.readUntilClosed()
            #expect(closed)
            #expect(text.hasPrefix("HTTP/1.1 503"), "\(text)")
            #expect(text.lowercased().contains("connection: close"))
            #expect(text.contains(#""code":909067"#))
            release()
            #expect(await busy.readUntilClosed().text.hasSuffix("done"))
            #expect(try await Poll.until { counters.requestsInProgress == 0 })
        }
    }

    @Test func limitsAreReadAndBounded() throws {
        let reader = ConfigReader(environment: [
            "HTTP_HEADER_TIMEOUT_SECONDS": "5", "HTTP_BODY_TIMEOUT_SECONDS": "7", "HTTP_MAX_CONNECTIONS": "9",
            "HTTP_MAX_REQUESTS": "3",
        ])
        let settings = try HTTPServerSettings(reader: reader, defaultHost: "127.0.0.1", defaultPort: 1)
        #expect(settings.limits.headerTimeout == .seconds(5) && settings.limits.bodyTimeout == .seconds(7))
        #expect(settings.limits.maxConnections == 9 && settings.limits.maxConcurrentRequests == 3)
        // A header timeout above a minute is refused.
        #expect(throws: ConfigReader.Failure.self) {
            try HTTPServerSettings(
                reader: ConfigReader(environment: ["HTTP_HEADER_TIMEOUT_SECONDS": "61"]), defaultHost: "h", defaultPort: 1)
        }
    }

    @Test func theBodyLimitHasACeiling() {
        #expect(HTTPServerSettings.maxBodyBytesCeiling == 256 << 20)
    }
}
