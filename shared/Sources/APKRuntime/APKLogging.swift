package import Logging
import Synchronization
package import APKSupport

/// Process-wide logging setup: swift-log's stream handler on standard error at the `LOG_LEVEL` level.
package enum APKLogging {
    private static let bootstrapped = Mutex(false)

    /// The `log.level` key (`LOG_LEVEL`), `info` when unset.
    package static func level(from reader: ConfigReader) throws(ConfigReader.Failure) -> Logger.Level {
        guard let text = reader.string("log.level") else { return .info }
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw ConfigReader.Failure(
                key: "log.level",
                reason: "expected one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), found \"\(text)\"")
        }
        return level
    }

    /// Bootstraps swift-log once per process (later calls only return a logger) and returns a logger for `label`.
    package static func bootstrap(label: String, level: Logger.Level) -> Logger {
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        if first {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
