import Synchronization

/// The rule set in force, swapped whole when discovery delivers a new one (readers never see half an update).
///
/// Ready once a first complete set arrived (or at once for static rules). A disconnected discovery stream changes
/// nothing: the last good set stays in force until a newer one is accepted.
package final class RuleStore: Sendable {
    private struct State {
        var rules: RuleSet
        var version: String?
    }

    private let state: Mutex<State>

    /// A store waiting for its first set (not ready).
    package init() {
        state = Mutex(State(rules: .empty, version: nil))
    }

    /// A store that is ready with `rules` (static rules; `version` names their source).
    package init(rules: RuleSet, version: String) {
        state = Mutex(State(rules: rules, version: version))
    }

    /// The set in force.
    package var current: RuleSet { state.withLock { $0.rules } }

    /// The version of the set in force; nil before the first one.
    package var version: String? { state.withLock { $0.version } }

    /// True once a complete set is in force.
    package var isReady: Bool { version != nil }

    /// Puts `rules` in force.
    package func replace(with rules: RuleSet, version: String) {
        state.withLock { $0 = State(rules: rules, version: version) }
    }
}
