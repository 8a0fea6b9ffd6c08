/// Why ``XDSClient`` (or an update's decoding helpers) rejected a discovery response. Its description is what the
/// NACK's `error_detail.message` carries, so it names types and resources, never resource contents.
package struct XDSClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable codes, as they appear in logs (`error.code`) and NACK messages.
    package enum Code: String, Sendable, Hashable {
        /// A resource's `Any` type URL differs from the response's type URL.
        case unexpectedResourceType = "XDS_UNEXPECTED_RESOURCE_TYPE"
        /// A resource could not be decoded as the expected message.
        case undecodableResource = "XDS_UNDECODABLE_RESOURCE"
        /// Two resources of one response have the same name.
        case duplicateResourceName = "XDS_DUPLICATE_RESOURCE_NAME"
    }

    /// The stable code.
    package var code: Code
    /// A human-readable explanation.
    package var message: String

    /// Creates an error.
    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "\(code.rawValue): \(message)" }
}
