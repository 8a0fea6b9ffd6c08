/// One schema violation: where (a JSON pointer such as `#/operations/0/verb`) and what.
package struct ValidationIssue: Sendable, Hashable, Codable, CustomStringConvertible {
    package var pointer: String
    package var message: String

    package init(pointer: String, message: String) {
        self.pointer = pointer
        self.message = message
    }

    /// `#/pointer: message`, the shape APK puts into 909029 `moreInfo` values.
    package var description: String { "\(pointer): \(message)" }
}
