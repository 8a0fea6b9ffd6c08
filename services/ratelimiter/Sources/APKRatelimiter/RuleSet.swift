package import APKProtos
import Foundation
import SwiftProtobuf

/// Every rule the ratelimiter enforces, by descriptor value: the union of the rules of all `RateLimitConfig`
/// resources (one per organization and environment).
///
/// The adapter makes descriptor values unique per rule: an API-level rule is shared by the API's environments and
/// operations, so the same value may appear in several resources — with the same limit. The same value with another
/// limit or unit is a conflict, and the whole set is refused (the discovery update is NACKed and the previous set
/// stays in force), as is a rule without a value, limit or unit.
package struct RuleSet: Sendable, Equatable {
    /// The rules by descriptor value.
    package private(set) var rules: [String: RateLimitRule]

    /// No rules: every descriptor is allowed.
    package static let empty = RuleSet()

    private init() {
        rules = [:]
    }

    /// The union of `rules`; throws ``RatelimiterError/Code/conflictingRules`` for a value given two limits.
    package init(rules: some Sequence<RateLimitRule>) throws(RatelimiterError) {
        self.init()
        for rule in rules {
            if let existing = self.rules[rule.descriptorValue], existing != rule {
                throw RatelimiterError(
                    .conflictingRules,
                    "descriptor value '\(rule.descriptorValue)' has two limits: \(existing.requestsPerUnit) per "
                        + "\(existing.unit.rawValue) (\(existing.localShareReserved) shared locally) and "
                        + "\(rule.requestsPerUnit) per \(rule.unit.rawValue) (\(rule.localShareReserved) shared locally)")
            }
            self.rules[rule.descriptorValue] = rule
        }
    }

    /// The union of the rules of `configs` (validated; see the type's doc comment).
    package init(configs: [Apk_Discovery_V1_RateLimitConfig]) throws(RatelimiterError) {
        var all: [RateLimitRule] = []
        for config in configs {
            for rule in config.rules {
                all.append(try RateLimitRule(rule, of: config))
            }
        }
        try self.init(rules: all)
    }

    /// The rule of a descriptor value, if any.
    package subscript(descriptorValue: String) -> RateLimitRule? {
        rules[descriptorValue]
    }

    /// How many rules there are.
    package var count: Int { rules.count }
}

extension RuleSet {
    /// Rules given as settings for development (no adapter): the proto3 JSON of one `RateLimitConfig` or of an array
    /// of them, e.g. `{"organization":"default","environment":"Default","rules":[{"descriptorValue":"demo",
    /// "limit":{"requestsPerUnit":5,"unit":"MINUTE"}}]}` (field names as in the .proto are accepted too).
    package init(staticJSON text: String) throws(RatelimiterError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let configs: [Apk_Discovery_V1_RateLimitConfig]
        do {
            if trimmed.hasPrefix("[") {
                configs = try Apk_Discovery_V1_RateLimitConfig.array(fromJSONString: trimmed)
            } else {
                configs = [try Apk_Discovery_V1_RateLimitConfig(jsonString: trimmed)]
            }
        } catch {
            throw RatelimiterError(
                .invalidStaticRules, "expected the JSON of a RateLimitConfig or of an array of them: \(error)")
        }
        try self.init(configs: configs)
    }
}
