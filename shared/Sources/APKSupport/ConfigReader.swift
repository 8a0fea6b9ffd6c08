import Foundation

/// Typed configuration read from environment variables through dotted keys.
///
/// A key maps to one variable: dots and dashes become underscores, letters are upper-cased (`http.port` ↔
/// `HTTP_PORT`, `limits.max-body-bytes` ↔ `LIMITS_MAX_BODY_BYTES`). An empty variable counts as unset.
///
/// Value forms:
/// - strings as given (surrounding whitespace trimmed);
/// - integers in decimal (`int`), checked against an optional range;
/// - booleans `true/false`, `yes/no`, `on/off`, `1/0` (`bool`);
/// - durations as `250ms`, `10s`, `2m`, `1h`, or a bare number of seconds (`duration`);
/// - comma-separated lists, entries trimmed, empty entries dropped (`list`).
///
/// Keys shared by every service (see each service's README for its own):
///
/// | key | variable | type | default |
/// |---|---|---|---|
/// | `http.host` | `HTTP_HOST` | string | service-specific (loopback) |
/// | `http.port` | `HTTP_PORT` | int 0–65535 | service-specific |
/// | `tls.certificate` | `TLS_CERTIFICATE` | path to a PEM chain | unset (plain HTTP) |
/// | `tls.key` | `TLS_KEY` | path to a PEM private key | unset (plain HTTP) |
/// | `log.level` | `LOG_LEVEL` | trace/debug/info/notice/warning/error/critical | `info` |
package struct ConfigReader: Sendable {
    /// A variable whose value cannot be read as the requested type.
    package struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        package var key: String
        package var reason: String

        package init(key: String, reason: String) {
            self.key = key
            self.reason = reason
        }

        package var description: String {
            "configuration \(ConfigReader.variableName(for: key)) (\(key)): \(reason)"
        }
    }

    private let values: [String: String]

    /// Reads from `environment` (the process environment by default).
    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = environment
    }

    /// The environment variable for a dotted key.
    package static func variableName(for key: String) -> String {
        String(key.uppercased().map { $0 == "." || $0 == "-" ? "_" : $0 })
    }

    /// The trimmed value, or nil when unset or empty.
    package func string(_ key: String) -> String? {
        guard let raw = values[Self.variableName(for: key)] else { return nil }
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    package func string(_ key: String, default defaultValue: String) -> String {
        string(key) ?? defaultValue
    }

    /// An integer within `range`, or `defaultValue` when unset.
    package func int(
        _ key: String, default defaultValue: Int, range: ClosedRange<Int> = Int.min...Int.max
    ) throws(Failure) -> Int {
        guard let text = string(key) else { return defaultValue }
        guard let value = Int(text) else { throw Failure(key: key, reason: "expected an integer, found \"\(text)\"") }
        guard range.contains(value) else {
            throw Failure(key: key, reason: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// A boolean, or `defaultValue` when unset.
    package func bool(_ key: String, default defaultValue: Bool) throws(Failure) -> Bool {
        guard let text = string(key) else { return defaultValue }
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw Failure(key: key, reason: "expected true or false, found \"\(text)\"")
        }
    }

    /// A positive duration, or `defaultValue` when unset.
    package func duration(_ key: String, default defaultValue: Duration) throws(Failure) -> Duration {
        guard let text = string(key) else { return defaultValue }
        guard let value = Self.parseDuration(text), value > .zero else {
            throw Failure(key: key, reason: "expected a positive duration such as 500ms, 10s or 2m, found \"\(text)\"")
        }
        return value
    }

    /// A comma-separated list, or `defaultValue` when unset.
    package func list(_ key: String, default defaultValue: [String]) -> [String] {
        guard let text = string(key) else { return defaultValue }
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `250ms`, `10s`, `2m`, `1h`, or a bare (possibly fractional) number of seconds.
    package static func parseDuration(_ text: String) -> Duration? {
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(text)
        var scale = 1.0
        for unit in units where text.hasSuffix(unit.suffix) {
            number = text.dropLast(unit.suffix.count)
            scale = unit.seconds
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0, value * scale < 1e9 else { return nil }
        return .milliseconds(Int64((value * scale * 1000).rounded()))
    }
}

extension ConfigReader {
    /// `<issuer>|<http(s) JWKS URL>` entries (the `auth.issuers` lists of the deployer and the adapter); throws
    /// ``Failure`` naming `key` for a malformed entry or an issuer listed twice.
    package func issuerList(_ key: String) throws -> [(issuer: String, jwksURL: String)] {
        var issuers: [(issuer: String, jwksURL: String)] = []
        for entry in list(key, default: []) {
            let fields = entry.split(separator: "|", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 2, !fields[0].isEmpty,
                fields[1].hasPrefix("https://") || fields[1].hasPrefix("http://")
            else {
                throw Failure(key: key, reason: "expected <issuer>|<http(s) JWKS URL>, found \"\(entry)\"")
            }
            guard !issuers.contains(where: { $0.issuer == fields[0] }) else {
                throw Failure(key: key, reason: "issuer \(fields[0]) is listed twice")
            }
            issuers.append((fields[0], fields[1]))
        }
        return issuers
    }
}
