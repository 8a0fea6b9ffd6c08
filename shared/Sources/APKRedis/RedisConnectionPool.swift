import APKSupport
package import Logging
package import NIOCore
import NIOPosix
import Synchronization

/// Up to `maxConnections` connections to one Redis server, opened lazily and repaired in the background.
///
/// - Slot *i* connects on the group's event loop *i* (modulo the loop count). A request that names its event loop
///   (``pipeline(_:patience:preferring:)``) uses the open connection on that loop, so the request, its reply and the
///   caller stay on one thread; the slot of that loop is opened in the background when it is not yet.
/// - Other requests go to the least busy open connection (ties rotate). Another connection is opened, up to the
///   maximum, when the chosen one already has requests in flight; the request does not wait for it.
/// - The first request waits for the first connection (bounded by `connectTimeout`). Once a connection broke or an
///   attempt failed, requests that find no open connection fail at once with ``RedisClientError/Code/notConnected``
///   rather than wait: a rate limiter must decide fast, with or without Redis. A cancelled request stops waiting at
///   once, for the connection as for its reply (see ``RESPConnection``).
/// - A broken connection is reconnected by the pool itself: at once if it had been up for a while, otherwise after
///   the configured back-off (exponential, capped, with jitter). Timers run on the event loop; no task is started.
/// - ``shutdown()`` closes every connection and stops reconnecting; it must be called before the pool is dropped.
package final class RedisConnectionPool: RedisClient {
    private enum Slot {
        case idle
        /// `waitable`: a request started it (first use) and requests may wait for it.
        case connecting(EventLoopFuture<RESPConnection>, waitable: Bool)
        case ready(RESPConnection, since: NIODeadline)
        case backingOff(Scheduled<Void>)
    }

    private struct State {
        var slots: [Slot]
        /// Consecutive failed attempts per slot, which choose the back-off delay.
        var failures: [Int]
        /// True from a failure or a lost connection until the next successful connect.
        var isDown = false
        var isShutDown = false
        var nextStart = 0
    }

    private enum Lease {
        case use(RESPConnection)
        case wait(EventLoopFuture<RESPConnection>)
        case fail(RedisClientError)
    }

    private let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    /// The group's loops: slot *i* connects on `loops[i % loops.count]`.
    private let loops: [any EventLoop]
    private let logger: Logger
    private let state: Mutex<State>

    /// Creates a pool; nothing connects until the first request.
    package init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "apk.redis")
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        let loops = Array(eventLoopGroup.makeIterator())
        self.loops = loops.isEmpty ? [eventLoopGroup.next()] : loops
        var logger = logger
        logger[metadataKey: "redis.server"] = "\(configuration.host):\(configuration.port)"
        self.logger = logger
        let size = max(configuration.maxConnections, 1)
        state = Mutex(State(slots: Array(repeating: .idle, count: size), failures: Array(repeating: 0, count: size)))
    }

    package func send(_ command: [String]) async throws -> RESPValue {
        try await lease().send(command)
    }

    package func pipeline(_ commands: [[String]]) async throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        return try await lease().pipeline(commands)
    }

    package func pipeline(
        _ commands: [[String]], patience: Duration, preferring eventLoop: (any EventLoop)?
    ) -> EventLoopFuture<[RESPValue]> {
        let loop = eventLoop ?? eventLoopGroup.any()
        guard !commands.isEmpty else { return loop.makeSucceededFuture([]) }
        switch leaseNow(preferring: eventLoop) {
        case .use(let connection):
            return connection.pipeline(commands, patience: patience)
        case .wait(let attempt):
            // The first request waits for the first connection; `patience` bounds the whole wait.
            return attempt.flatMap { $0.pipeline(commands, patience: patience) }
                .withPatience(patience, on: loop, "no Redis connection and reply")
        case .fail(let error):
            return loop.makeFailedFuture(error)
        }
    }

    /// Open connections right now (for health checks and tests).
    package var openConnections: Int {
        state.withLock { state in
            state.slots.count { if case .ready(let connection, _) = $0 { connection.isActive } else { false } }
        }
    }

    /// Closes every connection and stops reconnecting; later requests fail with ``RedisClientError/Code/shutDown``.
    package func shutdown() async {
        let (connections, attempts) = state.withLock { state in
            state.isShutDown = true
            var connections: [RESPConnection] = []
            var attempts: [EventLoopFuture<RESPConnection>] = []
            for slot in state.slots {
                switch slot {
                case .idle: break
                case .connecting(let attempt, _): attempts.append(attempt)
                case .ready(let connection, _): connections.append(connection)
                case .backingOff(let timer): timer.cancel()
                }
            }
            state.slots = state.slots.map { _ in .idle }
            return (connections, attempts)
        }
        for connection in connections {
            await connection.close()
        }
        for attempt in attempts {
            // A connect that completes after shutdown is closed by `connectFinished`; wait for it to settle.
            if let connection = try? await attempt.get() { await connection.close() }
        }
    }

    private func lease() async throws -> RESPConnection {
        switch leaseNow(preferring: nil) {
        case .use(let connection): return connection
        case .wait(let attempt): return try await attempt.valueUnlessCancelled()
        case .fail(let error): throw error
        }
    }

    /// The slot whose connections live on `eventLoop`, if the pool has one.
    private func slot(of eventLoop: any EventLoop, count: Int) -> Int? {
        loops.prefix(count).firstIndex { $0 === eventLoop }
    }

    /// A connection to use now, one to wait for, or why there is none; starts connecting where needed.
    private func leaseNow(preferring eventLoop: (any EventLoop)?) -> Lease {
        var toStart: (Int, EventLoopPromise<RESPConnection>)?
        let lease = state.withLock { state -> Lease in
            if state.isShutDown { return .fail(.shutDown) }
            let count = state.slots.count
            let own = eventLoop.flatMap { slot(of: $0, count: count) }
            if let own {
                switch state.slots[own] {
                case .ready(let connection, _) where connection.isActive:
                    return .use(connection)
                case .idle where !state.isDown:
                    // Open this loop's connection for the next requests; this one takes another.
                    if state.slots.contains(where: { if case .ready = $0 { true } else { false } }) {
                        toStart = (own, reserve(slot: own, waitable: false, in: &state))
                    }
                default:
                    break
                }
            }
            var best: (connection: RESPConnection, load: Int)?
            for offset in 0..<count {
                guard case .ready(let connection, _) = state.slots[(state.nextStart + offset) % count],
                    connection.isActive
                else { continue }
                let load = connection.inFlight
                if best.map({ load < $0.load }) ?? true { best = (connection, load) }
            }
            state.nextStart = (state.nextStart + 1) % count
            let isIdle = { (slot: Slot) -> Bool in if case .idle = slot { true } else { false } }
            // The caller's loop first: the first connection is then the one its later requests use.
            let idle = own.flatMap { isIdle(state.slots[$0]) ? $0 : nil } ?? state.slots.firstIndex(where: isIdle)
            if let best {
                if best.load > 0, !state.isDown, toStart == nil, let idle {
                    toStart = (idle, reserve(slot: idle, waitable: false, in: &state))
                }
                return .use(best.connection)
            }
            if state.isDown {
                return .fail(RedisClientError(.notConnected, "no Redis connection is up; reconnecting"))
            }
            for case .connecting(let attempt, waitable: true) in state.slots {
                return .wait(attempt)
            }
            if let idle {
                let promise = reserve(slot: idle, waitable: true, in: &state)
                toStart = (idle, promise)
                return .wait(promise.futureResult)
            }
            return .fail(RedisClientError(.notConnected, "no Redis connection is up; connecting"))
        }
        if let (slot, promise) = toStart { startConnect(slot: slot, promise: promise) }
        return lease
    }

    /// Marks `slot` as connecting; the caller starts the attempt after leaving the lock.
    private func reserve(slot: Int, waitable: Bool, in state: inout State) -> EventLoopPromise<RESPConnection> {
        let promise = loops[slot % loops.count].makePromise(of: RESPConnection.self)
        state.slots[slot] = .connecting(promise.futureResult, waitable: waitable)
        return promise
    }

    private func startConnect(slot: Int, promise: EventLoopPromise<RESPConnection>) {
        let eventLoop = promise.futureResult.eventLoop
        RESPConnection.connect(configuration: configuration, eventLoop: eventLoop, logger: logger)
            .whenComplete { result in
                // The pool's state first, so that a woken waiter already finds the connection ready.
                self.connectFinished(slot: slot, result: result, eventLoop: eventLoop)
                promise.completeWith(result)
            }
    }

    private func connectFinished(slot: Int, result: Result<RESPConnection, any Error>, eventLoop: any EventLoop) {
        enum Outcome { case connected(restored: Bool), failed(attempt: Int, delay: Duration), closeNow, none }
        let outcome = state.withLock { state -> Outcome in
            if state.isShutDown {
                state.slots[slot] = .idle
                return (try? result.get()) == nil ? .none : .closeNow
            }
            switch result {
            case .success(let connection):
                state.slots[slot] = .ready(connection, since: .now())
                let restored = state.isDown
                state.isDown = false
                return .connected(restored: restored)
            case .failure:
                state.isDown = true
                let (attempt, delay) = scheduleRetry(slot: slot, eventLoop: eventLoop, in: &state)
                return .failed(attempt: attempt, delay: delay)
            }
        }
        switch (outcome, result) {
        case (.connected(let restored), .success(let connection)):
            if restored { logger.info("Redis connection restored") }
            connection.closeFuture.whenComplete { _ in self.connectionClosed(slot: slot, connection: connection) }
        case (.closeNow, .success(let connection)):
            connection.channel.close(promise: nil)
        case (.failed(let attempt, let delay), .failure(let error)):
            let metadata: Logger.Metadata = ["error": "\(error)", "redis.retry.delay": "\(delay)"]
            if attempt == 0 {
                logger.warning("Redis connect failed; retrying in the background", metadata: metadata)
            } else {
                logger.debug("Redis connect failed again", metadata: metadata)
            }
        default:
            break
        }
    }

    /// A connection closed: reconnect at once if it had been up for a while (counted as healthy), else back off.
    private func connectionClosed(slot: Int, connection: RESPConnection) {
        enum Next { case ignore, retryLater, retryNow(EventLoopPromise<RESPConnection>) }
        let eventLoop = connection.channel.eventLoop
        let next = state.withLock { state -> Next in
            guard !state.isShutDown, case .ready(let current, let since) = state.slots[slot], current === connection
            else { return .ignore }
            state.isDown = true
            guard NIODeadline.now() - since >= TimeAmount(configuration.reconnectBackoff.max) else {
                // Closed soon after opening (maxclients, a proxy dropping us): no reconnect storm.
                _ = scheduleRetry(slot: slot, eventLoop: eventLoop, in: &state)
                return .retryLater
            }
            state.failures[slot] = 0
            return .retryNow(reserve(slot: slot, waitable: false, in: &state))
        }
        switch next {
        case .ignore: return
        case .retryLater: logger.warning("Redis connection lost soon after opening; reconnecting after a back-off")
        case .retryNow(let promise):
            logger.warning("Redis connection lost; reconnecting")
            startConnect(slot: slot, promise: promise)
        }
    }

    /// Puts `slot` into back-off for its next attempt; returns the attempt number and the delay.
    private func scheduleRetry(slot: Int, eventLoop: any EventLoop, in state: inout State) -> (Int, Duration) {
        let attempt = state.failures[slot]
        state.failures[slot] += 1
        let delay = configuration.reconnectBackoff.delay(attempt: attempt, random: Double.random(in: 0..<1))
        let timer = eventLoop.scheduleTask(in: TimeAmount(delay)) { self.reconnect(slot: slot) }
        state.slots[slot] = .backingOff(timer)
        return (attempt, delay)
    }

    private func reconnect(slot: Int) {
        let promise = state.withLock { state -> EventLoopPromise<RESPConnection>? in
            guard !state.isShutDown, case .backingOff = state.slots[slot] else { return nil }
            return reserve(slot: slot, waitable: false, in: &state)
        }
        if let promise { startConnect(slot: slot, promise: promise) }
    }
}
