package import SwiftProtobuf

/// One versioned set of resources of a single xDS type.
package struct VersionedResources: Sendable, Equatable {
    /// The version string sent to Envoy as `version_info`.
    package var version: String
    /// The resources by name.
    package var resources: [String: Google_Protobuf_Any]

    /// Creates a versioned set.
    package init(version: String, resources: [String: Google_Protobuf_Any] = [:]) {
        self.version = version
        self.resources = resources
    }
}

/// Everything one Envoy node (or APK discovery client) should see: per type URL a version and its resources.
package struct Snapshot: Sendable, Equatable {
    /// Resources by type URL.
    package var types: [String: VersionedResources]

    /// Creates a snapshot.
    package init(types: [String: VersionedResources] = [:]) {
        self.types = types
    }

    /// The versioned resources of a type; a type the snapshot does not hold is an empty set with version "".
    package func resources(ofType typeURL: String) -> VersionedResources {
        types[typeURL] ?? VersionedResources(version: "")
    }

    /// The version of a type, "" when the snapshot does not hold it.
    package func version(ofType typeURL: String) -> String {
        types[typeURL]?.version ?? ""
    }

    /// Sets the resources of one type, keyed by the name `nameOf` returns.
    package mutating func set<M: Message>(
        _ typeURL: String, version: String, _ messages: [M], name nameOf: (M) -> String
    ) throws {
        var resources: [String: Google_Protobuf_Any] = [:]
        for message in messages {
            resources[nameOf(message)] = try Google_Protobuf_Any(message: message)
        }
        types[typeURL] = VersionedResources(version: version, resources: resources)
    }
}
