package import APKSupport
package import SwiftProtobuf

extension XDSClient {
    /// What an ``XDSClient`` identifies as, what it subscribes to and how it retries.
    package struct Configuration: Sendable {
        /// The node id sent in every request (`node.id`); the server picks its snapshot by it.
        package var nodeID: String
        /// The node's cluster (`node.cluster`), "" if none.
        package var cluster: String
        /// The subscriptions, one request each when a stream opens (in this order).
        package var subscriptions: [Subscription]
        /// The reconnect back-off.
        package var backoff: Backoff

        /// Creates a configuration.
        package init(
            nodeID: String, cluster: String = "", subscriptions: [Subscription], backoff: Backoff = .defaults
        ) {
            self.nodeID = nodeID
            self.cluster = cluster
            self.subscriptions = subscriptions
            self.backoff = backoff
        }
    }

    /// One xDS type to subscribe to, optionally restricted to some resource names.
    package struct Subscription: Sendable, Hashable {
        /// The type URL (`type.googleapis.com/apk.discovery.v1.Api`).
        package var typeURL: String
        /// The resource names wanted; empty means every resource of the type (wildcard).
        package var resourceNames: [String]

        /// Subscribes to a type URL.
        package init(typeURL: String, resourceNames: [String] = []) {
            self.typeURL = typeURL
            self.resourceNames = resourceNames
        }

        /// Subscribes to the type of a protobuf message (`type.googleapis.com/` + its full name).
        package init<M: Message>(_ type: M.Type, resourceNames: [String] = []) {
            self.init(typeURL: XDSClient.typeURL(of: type), resourceNames: resourceNames)
        }
    }

    /// The type URL of a protobuf message type, as `Google_Protobuf_Any(message:)` writes it.
    package static func typeURL<M: Message>(of type: M.Type) -> String {
        "type.googleapis.com/\(M.protoMessageName)"
    }

    /// One accepted-or-rejected unit of state-of-the-world xDS: every resource of a type at one version.
    package struct Update: Sendable {
        /// The subscribed type URL.
        package var typeURL: String
        /// The server's version of this set (`version_info`).
        package var version: String
        /// The response nonce (echoed in the ACK or NACK).
        package var nonce: String
        /// The complete set of resources, in the server's order (state of the world: it replaces the previous set).
        package var resources: [Google_Protobuf_Any]

        /// Creates an update.
        package init(typeURL: String, version: String, nonce: String, resources: [Google_Protobuf_Any]) {
            self.typeURL = typeURL
            self.version = version
            self.nonce = nonce
            self.resources = resources
        }

        /// The resources decoded as `M`; throws ``XDSClientError`` (so a handler that uses it NACKs bad content).
        package func decode<M: Message>(_ type: M.Type) throws -> [M] {
            try resources.enumerated().map { index, resource in
                guard resource.typeURL == XDSClient.typeURL(of: type) else {
                    throw XDSClientError(
                        .unexpectedResourceType,
                        "resource \(index) of \(typeURL) has type '\(resource.typeURL)', "
                            + "expected \(M.protoMessageName)")
                }
                do {
                    return try M(unpackingAny: resource)
                } catch {
                    throw XDSClientError(
                        .undecodableResource, "resource \(index) of \(typeURL) is not a valid \(M.protoMessageName)")
                }
            }
        }

        /// The resources decoded as `M`, keyed by `name`; a repeated name throws ``XDSClientError``.
        package func decode<M: Message>(_ type: M.Type, keyedBy name: (M) -> String) throws -> [String: M] {
            var byName: [String: M] = [:]
            for message in try decode(type) {
                let key = name(message)
                guard byName.updateValue(message, forKey: key) == nil else {
                    throw XDSClientError(.duplicateResourceName, "\(typeURL) holds '\(key)' more than once")
                }
            }
            return byName
        }
    }
}
