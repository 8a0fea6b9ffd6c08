package import NIOCore
import NIOPosix
import Synchronization

/// A Redis stand-in for unit tests: string keys with expiry, on an injected clock (``ManualClock`` in tests).
///
/// Supports `PING`, `GET`, `SET` (`NX`/`XX`, `EX`/`PX`/`KEEPTTL`), `DEL`, `EXISTS`, `INCR`, `INCRBY`, `DECR`,
/// `DECRBY`, `EXPIRE` (`NX`/`XX`/`GT`/`LT`), `TTL` and `PTTL` with Redis 7's semantics and error texts, and answers
/// anything else with an `ERR unknown command` reply. Keys expire lazily, when touched, as in Redis: a key whose
/// deadline is exactly now still exists. A pipeline runs as one step at one instant.
package final class InMemoryRedisClient<C: Clock>: RedisClient where C.Duration == Duration {
    private struct Entry {
        var value: String
        var expiresAt: C.Instant?
    }

    private let clock: C
    private let store = Mutex<[String: Entry]>([:])

    /// A store on `clock`.
    package init(clock: C) {
        self.clock = clock
    }

    package func send(_ command: [String]) async throws -> RESPValue {
        let now = clock.now
        return store.withLock { Self.execute(command, now: now, in: &$0) }
    }

    package func pipeline(_ commands: [[String]]) async throws -> [RESPValue] {
        run(commands)
    }

    /// Runs the commands as one step at one instant.
    private func run(_ commands: [[String]]) -> [RESPValue] {
        let now = clock.now
        return store.withLock { store in commands.map { Self.execute($0, now: now, in: &store) } }
    }

    /// Answers at once (so `patience` never runs out), on `eventLoop` or any of NIO's shared loops.
    package func pipeline(
        _ commands: [[String]], patience: Duration, preferring eventLoop: (any EventLoop)?
    ) -> EventLoopFuture<[RESPValue]> {
        (eventLoop ?? MultiThreadedEventLoopGroup.singleton.any()).makeSucceededFuture(run(commands))
    }

    /// The keys currently stored, expired ones excluded (for test assertions).
    package var keys: Set<String> {
        let now = clock.now
        return store.withLock { store in
            Set(store.filter { $0.value.expiresAt.map { now <= $0 } ?? true }.keys)
        }
    }

    private static func execute(_ command: [String], now: C.Instant, in store: inout [String: Entry]) -> RESPValue {
        guard let name = command.first?.uppercased() else { return .error("ERR empty command") }
        let arguments = Array(command.dropFirst())
        // Lazy expiry of every key the command names (all commands here take keys from their first argument on).
        for key in arguments where store[key]?.expiresAt.map({ now > $0 }) == true {
            store[key] = nil
        }
        switch (name, arguments.count) {
        case ("PING", 0): return .simpleString("PONG")
        case ("PING", 1): return .bulkString(arguments[0])
        case ("GET", 1): return store[arguments[0]].map { .bulkString($0.value) } ?? .nullBulkString
        case ("SET", 2...): return set(arguments, now: now, in: &store)
        case ("DEL", 1...):
            return .integer(Int64(arguments.count { store.removeValue(forKey: $0) != nil }))
        case ("EXISTS", 1...): return .integer(Int64(arguments.count { store[$0] != nil }))
        case ("INCR", 1): return increment(arguments[0], by: "1", in: &store)
        case ("DECR", 1): return increment(arguments[0], by: "-1", in: &store)
        case ("INCRBY", 2): return increment(arguments[0], by: arguments[1], in: &store)
        case ("DECRBY", 2):
            guard let delta = Int64(arguments[1]), delta != .min else { return notAnInteger }
            return increment(arguments[0], by: String(-delta), in: &store)
        case ("EXPIRE", 2...): return expire(arguments, now: now, in: &store)
        case ("TTL", 1), ("PTTL", 1):
            guard let entry = store[arguments[0]] else { return .integer(-2) }
            guard let expiresAt = entry.expiresAt else { return .integer(-1) }
            let milliseconds = Self.milliseconds(now.duration(to: expiresAt))
            return .integer(name == "PTTL" ? milliseconds : (milliseconds + 500) / 1000)
        case ("PING", _), ("GET", _), ("SET", _), ("DEL", _), ("EXISTS", _), ("INCR", _), ("DECR", _),
            ("INCRBY", _), ("DECRBY", _), ("EXPIRE", _), ("TTL", _), ("PTTL", _):
            return .error("ERR wrong number of arguments for '\(name.lowercased())' command")
        default:
            return .error("ERR unknown command '\(command[0])'")
        }
    }

    private static var notAnInteger: RESPValue { .error("ERR value is not an integer or out of range") }

    private static func increment(_ key: String, by deltaText: String, in store: inout [String: Entry]) -> RESPValue {
        guard let delta = Int64(deltaText) else { return notAnInteger }
        var entry = store[key] ?? Entry(value: "0", expiresAt: nil)
        guard let current = Int64(entry.value) else { return notAnInteger }
        let (sum, overflow) = current.addingReportingOverflow(delta)
        guard !overflow else { return .error("ERR increment or decrement would overflow") }
        entry.value = String(sum)
        store[key] = entry  // INCRBY keeps the key's expiry
        return .integer(sum)
    }

    private static func expire(_ arguments: [String], now: C.Instant, in store: inout [String: Entry]) -> RESPValue {
        guard let seconds = Int64(arguments[1]), abs(seconds) <= 1_000_000_000_000 else {
            return Int64(arguments[1]) == nil ? notAnInteger : .error("ERR invalid expire time in 'expire' command")
        }
        var flags = Set<String>()
        for option in arguments.dropFirst(2) {
            let flag = option.uppercased()
            guard ["NX", "XX", "GT", "LT"].contains(flag) else { return .error("ERR Unsupported option \(option)") }
            flags.insert(flag)
        }
        if flags.contains("NX"), flags.count > 1 {
            return .error("ERR NX and XX, GT or LT options at the same time are not compatible")
        }
        if flags.contains("GT"), flags.contains("LT") {
            return .error("ERR GT and LT options at the same time are not compatible")
        }
        guard let entry = store[arguments[0]] else { return .integer(0) }
        let deadline = now.advanced(by: .seconds(seconds))
        let current = entry.expiresAt
        if flags.contains("NX"), current != nil { return .integer(0) }
        if flags.contains("XX"), current == nil { return .integer(0) }
        // For GT and LT a key without expiry counts as expiring never (infinitely late).
        if flags.contains("GT"), current.map({ deadline <= $0 }) ?? true { return .integer(0) }
        if flags.contains("LT"), let current, deadline >= current { return .integer(0) }
        if deadline <= now {
            store[arguments[0]] = nil  // a deadline in the past deletes the key, as in Redis
        } else {
            store[arguments[0]]?.expiresAt = deadline
        }
        return .integer(1)
    }

    private static func set(_ arguments: [String], now: C.Instant, in store: inout [String: Entry]) -> RESPValue {
        let key = arguments[0]
        var expiresAt: C.Instant?
        var keepTTL = false
        var condition: String?
        var index = 2
        while index < arguments.count {
            let option = arguments[index].uppercased()
            switch option {
            case "NX", "XX":
                guard condition == nil else { return syntaxError }
                condition = option
            case "KEEPTTL":
                guard expiresAt == nil else { return syntaxError }
                keepTTL = true
            case "EX", "PX":
                guard !keepTTL, expiresAt == nil, index + 1 < arguments.count else { return syntaxError }
                guard let amount = Int64(arguments[index + 1]) else { return notAnInteger }
                guard amount > 0, amount <= 1_000_000_000_000 else {
                    return .error("ERR invalid expire time in 'set' command")
                }
                expiresAt = now.advanced(by: option == "EX" ? .seconds(amount) : .milliseconds(amount))
                index += 1
            default:
                return syntaxError
            }
            index += 1
        }
        let existing = store[key]
        if condition == "NX", existing != nil { return .nullBulkString }
        if condition == "XX", existing == nil { return .nullBulkString }
        store[key] = Entry(value: arguments[1], expiresAt: keepTTL ? existing?.expiresAt : expiresAt)
        return .simpleString("OK")
    }

    private static var syntaxError: RESPValue { .error("ERR syntax error") }

    /// Whole milliseconds in `duration`, rounded down.
    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

extension InMemoryRedisClient where C == ContinuousClock {
    /// A store on the real (continuous) clock.
    package convenience init() {
        self.init(clock: ContinuousClock())
    }
}
