import EnvoyProtos
package import Foundation
package import SwiftProtobuf

/// Packs messages into `Any` with deterministic bytes (map entries sorted), so equal content always gives equal
/// bytes and equal digests — versions are content hashes and must survive an adapter restart.
package enum AnyPacking {
    static let options: BinaryEncodingOptions = {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return options
    }()

    /// Packs `message` with `encoder`. Envoy's protos are proto3 (no required fields), so the deterministic encoder
    /// does not fail on messages built here; when an encoder does fail, the error travels to the API's status
    /// instead of an empty `Any` reaching Envoy.
    package static func pack<M: Message>(_ message: M, encoder: ProtoEncoder = .deterministic) throws -> Google_Protobuf_Any {
        var any = Google_Protobuf_Any()
        any.typeURL = "type.googleapis.com/" + M.protoMessageName
        any.value = try encoder.encode(message)
        return any
    }
}

/// How the adapter serialises the protobuf messages it publishes: deterministic bytes in production; tests inject
/// one that fails for chosen messages to prove that a failure reaches the API's status.
package struct ProtoEncoder: Sendable {
    private let body: @Sendable (any Message) throws -> Data

    package init(_ body: @escaping @Sendable (any Message) throws -> Data) { self.body = body }

    /// Deterministic binary encoding (``AnyPacking/options``).
    package static let deterministic = ProtoEncoder { message in try message.serializedBytes(options: AnyPacking.options) }

    package func encode(_ message: some Message) throws -> Data { try body(message) }
}
