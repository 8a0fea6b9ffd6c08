import APKRedis
import APKTestSupport
import APKSupport
import Foundation
import NIOCore
import Testing

/// The client against a real `redis-server` that each test starts on its own free loopback port: commands, Redis
/// 7 expiry semantics, a 1,000-command pipeline, AUTH/SELECT, reply deadlines, and a pool that fails fast while the
/// server is dead and reconnects by itself once it is back. Fails (does not skip) when `redis-server` is missing.
@Suite struct RedisServerTests {
    private let logger = RedisServerProcess.quietLogger

    @Test func connectionRunsCommandsAndPipelines() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let connection = try await RESPConnection.connect(configuration: server.configuration(), logger: logger)

        #expect(try await connection.send(["PING"]) == .simpleString("PONG"))
        #expect(try await connection.send(["INCRBY", "hits", "5"]) == .integer(5))
        #expect(try await connection.send(["INCRBY", "hits", "-2"]) == .integer(3))
        #expect(try await connection.send(["TTL", "hits"]) == .integer(-1))
        #expect(try await connection.send(["EXPIRE", "hits", "100", "NX"]) == .integer(1))
        #expect(try await connection.send(["EXPIRE", "hits", "5", "NX"]) == .integer(0))  // NX: expiry already set
        let ttl = try #require(try await connection.send(["TTL", "hits"]).integer)
        // Above 5 (NX kept the first expiry); not an exact 100, as seconds may pass between the two commands on a
        // loaded machine.
        #expect((6...100).contains(ttl), "\(ttl)")
        #expect(try await connection.send(["TTL", "missing"]) == .integer(-2))
        #expect(try await connection.send(["GET", "missing"]) == .nullBulkString)

        // A Redis error is a reply, not a thrown error, and the connection stays usable.
        #expect(try await connection.send(["SET", "text", "abc"]) == .simpleString("OK"))
        let error = try await connection.send(["INCRBY", "text", "1"])
        #expect(error.errorMessage?.hasPrefix("ERR value is not an integer") == true)
        #expect(try await connection.send(bytes: [Array("GET".utf8), Array("text".utf8)]) == .bulkString("abc"))
        await #expect(throws: RedisClientError(.invalidCommand, "a Redis command needs at least its name")) {
            try await connection.send([])
        }

        let commands = (1...1000).map { _ in ["INCRBY", "counter", "1"] }
        let replies = try await connection.pipeline(commands)
        #expect(replies == (1...1000).map { RESPValue.integer(Int64($0)) })

        // Concurrent senders share the connection; each gets its own reply.
        let echoed = try await withThrowingTaskGroup(of: RESPValue.self) { group in
            for index in 0..<50 { group.addTask { try await connection.send(["ECHO", "\(index)"]) } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1.string ?? "") }
        }
        #expect(echoed == Set((0..<50).map { "\($0)" }))
        await connection.close()
        await #expect(throws: RedisClientError.self) { try await connection.send(["PING"]) }
    }

    @Test func authenticatesAndSelectsTheDatabase() async throws {
        let server = try await RedisServerProcess.start(arguments: ["--requirepass", "s3cret"], password: "s3cret")
        defer { server.stop() }
        var configuration = server.configuration(password: "s3cret")
        configuration.database = 3
        let connection = try await RESPConnection.connect(configuration: configuration, logger: logger)
        #expect(try await connection.send(["SET", "k", "v"]) == .simpleString("OK"))
        await connection.close()

        let zero = try await RESPConnection.connect(
            configuration: server.configuration(password: "s3cret"), logger: logger)
        #expect(try await zero.send(["GET", "k"]) == .nullBulkString)  // the key went to database 3
        #expect(try await zero.send(["SELECT", "3"]) == .simpleString("OK"))
        #expect(try await zero.send(["GET", "k"]) == .bulkString("v"))
        await zero.close()

        do {
            _ = try await RESPConnection.connect(configuration: server.configuration(password: "wrong"), logger: logger)
            Issue.record("a wrong password must fail the connect")
        } catch let error as RedisClientError {
            #expect(error.code == .authenticationFailed)
            #expect(!error.description.contains("wrong"))
        }
    }

    @Test func overdueReplyFailsWithCommandTimeout() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let connection = try await RESPConnection.connect(configuration: server.configuration(), logger: logger)
        let started = ContinuousClock.now
        do {
            _ = try await connection.send(["BLPOP", "nothing", "0"], timeout: .milliseconds(100))  // blocks forever
            Issue.record("BLPOP on an empty list must time out")
        } catch let error as RedisClientError {
            #expect(error.code == .commandTimeout)
        }
        // A hang detector, not a timing target (`swift test` runs every suite at once on two cores).
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(!connection.isActive)  // replies could no longer be paired: the connection is closed
    }

    @Test func cancelledWaiterStopsWaitingAndLaterRepliesStayPaired() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let connection = try await RESPConnection.connect(configuration: server.configuration(), logger: logger)
        let blocked = Task { try await connection.send(["BLPOP", "nothing", "0"]) }  // the server holds it until a push
        try await waitUntilBlocked(server)
        blocked.cancel()
        // Cancelled: no reply — none can exist yet, the list is still empty — the waiter did not wait for it.
        await #expect(throws: CancellationError.self) { try await blocked.value }
        try await push(server, "nothing")  // now the BLPOP's reply is sent
        // The BLPOP's reply still arrives first and is dropped; the next command gets its own reply.
        #expect(try await connection.send(["ECHO", "after"]) == .bulkString("after"))
        #expect(connection.isActive)
        // A task cancelled before it sends writes nothing.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await connection.send(["INCR", "never"])
        }
        await #expect(throws: CancellationError.self) { try await early.value }
        #expect(try await connection.send(["GET", "never"]) == .nullBulkString)
        await connection.close()
    }

    /// Patience (the ratelimiter's deadline): the caller stops waiting with `replyLate`, the connection stays open,
    /// and the late replies are dropped so later ones stay paired; through the pool too.
    @Test func impatientPipelineGivesUpButKeepsTheConnection() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let connection = try await RESPConnection.connect(configuration: server.configuration(), logger: logger)
        #expect(try await connection.pipeline([["INCRBY", "n", "1"]], patience: .seconds(30)) == [.integer(1)])
        // BLPOP holds its reply until something is pushed; the pipeline's INCRBY reply comes after it. Giving up
        // before the push proves the caller did not wait for the reply.
        await #expect(throws: RedisClientError(.replyLate, "no reply within 0.05 seconds")) {
            try await connection.pipeline([["BLPOP", "nothing", "0"], ["INCRBY", "n", "1"]], patience: .milliseconds(50))
        }
        #expect(connection.isActive)
        try await push(server, "nothing")  // the late replies ([nothing, x], 2) are sent now
        // The late replies are read and dropped: this pipeline gets its own.
        #expect(try await connection.pipeline([["INCRBY", "n", "1"], ["ECHO", "x"]], patience: .seconds(30))
            == [.integer(3), .bulkString("x")])

        let pool = RedisConnectionPool(configuration: server.configuration(), logger: logger)
        server.pause()
        await #expect(throws: RedisClientError.self) {
            try await pool.pipeline([["INCRBY", "n", "1"]], patience: .milliseconds(50))
        }
        server.resume()
        // 4 or 5: the impatient INCRBY may or may not have left before the pool's connection was up.
        let after = try await pool.pipeline([["INCRBY", "n", "1"]], patience: .seconds(30))
        #expect([[RESPValue.integer(4)], [.integer(5)]].contains(after), "\(after)")
        await pool.shutdown()
        await connection.close()
    }

    @Test func poolFailsFastWhileRedisIsDownAndReconnectsByItself() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let pool = RedisConnectionPool(configuration: server.configuration(), logger: logger)

        // Lazy: nothing connects before the first request; concurrent load opens the second connection.
        #expect(pool.openConnections == 0)
        #expect(try await pool.send(["PING"]) == .simpleString("PONG"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { _ = try await pool.pipeline([["INCR", "n"], ["GET", "n"]]) } }
            try await group.waitForAll()
        }
        #expect(try await pool.send(["GET", "n"]) == .bulkString("20"))

        // Killed mid-use: the request in flight fails with a typed error...
        let blocked = Task { try await pool.send(["BLPOP", "queue", "0"]) }  // held until the kill
        try await waitUntilBlocked(server)
        server.kill()
        await #expect(throws: RedisClientError.self) { try await blocked.value }

        // ...and so does every request while the server is down, at once instead of waiting.
        var codes = Set<RedisClientError.Code>()
        let clock = ContinuousClock()
        let elapsed = await clock.measure {
            for _ in 0..<20 {
                do {
                    _ = try await pool.send(["PING"])
                } catch let error as RedisClientError {
                    codes.insert(error.code)
                } catch {
                    Issue.record("untyped error \(error)")
                }
            }
        }
        #expect(codes.isSubset(of: [.notConnected, .connectionClosed]) && codes.contains(.notConnected), "\(codes)")
        // `.notConnected` (above) is the proof that no request waited for a connection; this only catches a hang.
        #expect(elapsed < .seconds(30), "fail fast, not wait for a connect timeout")

        // Back on the same port: the pool reconnects by itself (no request is needed to drive it).
        try await server.restart()
        let deadline = ContinuousClock.now + .seconds(60)  // a hang limit: the loop ends as soon as it holds
        while pool.openConnections == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))  // poll interval
        }
        #expect(pool.openConnections > 0)
        #expect(try await pool.send(["PING"]) == .simpleString("PONG"))

        await pool.shutdown()
        #expect(pool.openConnections == 0)
        await #expect(throws: RedisClientError(.shutDown, "the Redis client was shut down")) {
            try await pool.send(["PING"])
        }
    }

    @Test func poolWithoutServerFailsTheFirstRequestThenFailsFast() async throws {
        let probe = try await RedisServerProcess.start()
        let port = probe.port
        probe.stop()  // nothing listens on the port now
        let pool = RedisConnectionPool(
            configuration: RedisConfiguration(port: port, connectTimeout: .milliseconds(300),
                                              reconnectBackoff: .init(initial: .seconds(5), max: .seconds(5))),
            logger: logger)
        await #expect(throws: RedisClientError.self) { try await pool.send(["PING"]) }
        do {
            _ = try await pool.send(["PING"])
            Issue.record("the pool must fail fast while it cannot connect")
        } catch let error as RedisClientError {
            #expect(error.code == .notConnected)
        }
        await pool.shutdown()
    }

    /// Polls `INFO clients` on a side connection until one client is blocked (BLPOP reached the server).
    /// Pushes one element to `list` from a connection of its own (releases a BLPOP waiting on it).
    private func push(_ server: RedisServerProcess, _ list: String) async throws {
        let side = try await RESPConnection.connect(configuration: server.configuration(), logger: logger)
        defer { side.channel.close(promise: nil) }
        #expect(try await side.send(["LPUSH", list, "x"]).integer != nil)
    }

    private func waitUntilBlocked(_ server: RedisServerProcess) async throws {
        let side = try await RESPConnection.connect(configuration: server.configuration(), logger: logger)
        defer { side.channel.close(promise: nil) }
        let deadline = ContinuousClock.now + .seconds(60)  // a hang limit: the loop ends as soon as it holds
        while ContinuousClock.now < deadline {
            let info = try await side.send(["INFO", "clients"]).string ?? ""
            if info.contains("blocked_clients:1") { return }
            try await Task.sleep(for: .milliseconds(5))  // poll interval
        }
        Issue.record("BLPOP never blocked on the server")
    }
}
