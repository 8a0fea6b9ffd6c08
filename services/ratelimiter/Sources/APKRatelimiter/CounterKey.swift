/// The Redis key of one rule's counter in one window: `apk:rl:<descriptor value>:<unit>:<window start>`.
///
/// Unit and start make each window's counter a new key, so nothing is ever reset: a key expires (`EXPIRE … NX`,
/// the window's length) after its window has ended. The unit is part of the key so that a rule whose unit changes
/// does not inherit the old unit's count. The value is the rule's opaque `descriptor_value`; the key stays
/// unambiguous whatever it contains, because unit and start are read from the right.
package enum CounterKey {
    /// The prefix of every counter key (`SCAN 0 MATCH apk:rl:*` lists them).
    package static let prefix = "apk:rl:"

    /// The key of `descriptorValue`'s counter in `window`.
    package static func make(descriptorValue: String, window: FixedWindow) -> String {
        "\(prefix)\(descriptorValue):\(window.unit.rawValue):\(window.start)"
    }
}
