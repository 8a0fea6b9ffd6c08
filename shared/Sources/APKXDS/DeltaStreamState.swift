import APKSupport
import Crypto
package import EnvoyProtos
import Foundation
package import SwiftProtobuf

/// The protocol state of one incremental (delta) ADS stream: pure, no I/O. Envoy uses it with `api_type:
/// DELTA_GRPC`; a deploy then sends only the resources it changed (one cluster, one scope, one route
/// configuration) instead of every cluster and scope of the gateway, which is what keeps propagation flat at
/// 10,000 APIs (docs/decisions.md).
///
/// Rules, per type URL:
/// - subscriptions are diffs: `resource_names_subscribe` / `_unsubscribe` always apply, even on a request whose
///   nonce is stale; an empty first subscription, or `*`, is a wildcard (every resource of the type, as Envoy uses
///   for LDS, CDS and SRDS);
/// - the stream remembers, per resource, the content the client has (what was sent, or what it reported in
///   `initial_resource_versions` at reconnect when that equals the current content) and sends only resources whose
///   content differs, plus `removed_resources` for ones it has that no longer exist;
/// - a resource's `version` is a digest of its bytes, so a reconnecting Envoy's versions are comparable across
///   adapter restarts; `system_version_info` is the snapshot's version of the type (the NACK blame key);
/// - `error_detail` on the current nonce is a NACK: recorded, and the rejected content counts as sent (never resent
///   until it changes — no resend loop); the version Envoy still runs is the last one it ACKed;
/// - one response per type is outstanding at a time, and a type's first request is always answered (possibly
///   empty), so that Envoy's initial fetch never waits for a resource that does not exist.
package struct DeltaStreamState: Sendable {
    /// What a request was, for the caller to log and count; responses come from ``responses(for:)``.
    package enum Outcome: Sendable, Equatable {
        /// Envoy accepted the response of `version` (a type's system version).
        case ack(version: String)
        /// Envoy rejected a response.
        case nack(NACKRecord)
        /// The request answered an older response (its subscription changes still applied).
        case stale
        /// A request that is not an answer: a first request or a subscription change.
        case subscription
        /// The request carried no type URL; ignored.
        case invalid
    }

    private struct TypeState: Sendable {
        var wildcard = false
        var subscribed: Set<String> = []
        /// Content the client has, by resource name.
        var known: [String: Google_Protobuf_Any] = [:]
        /// `initial_resource_versions` of a reconnect, resolved against the first snapshot.
        var initial: [String: String] = [:]
        var lastNonce: String?
        /// System version of the last response, and of the last one Envoy accepted.
        var sentVersion: String?
        var ackedVersion: String?
        var awaitingReply = false
        var answered = false
        /// Subscriptions changed since the last diff (otherwise an unchanged type version means nothing to send).
        var subscriptionChanged = true
    }

    /// The node id of the stream (from the first request's `node.id`).
    package var node: String
    private var types: [String: TypeState] = [:]
    private var nonceCounter: UInt64 = 0

    package init(node: String) {
        self.node = node
    }

    /// Type URLs the client has asked for on this stream.
    package var subscribedTypes: [String] { types.keys.sorted() }

    /// The system version Envoy last ACKed for a type on this stream.
    package func ackedVersion(ofType typeURL: String) -> String? { types[typeURL]?.ackedVersion }

    /// The version string of a resource: a digest of its bytes.
    package static func version(of resource: Google_Protobuf_Any) -> String {
        Hex.lowercase(SHA256.hash(data: resource.value).prefix(8))
    }

    /// Applies one request's subscription changes and answer.
    package mutating func handle(_ request: Envoy_Service_Discovery_V3_DeltaDiscoveryRequest) -> Outcome {
        let typeURL = request.typeURL
        guard !typeURL.isEmpty else { return .invalid }
        let first = types[typeURL] == nil
        var type = types[typeURL] ?? TypeState()
        defer { types[typeURL] = type }
        if first {
            type.wildcard = request.resourceNamesSubscribe.isEmpty
            type.initial = request.initialResourceVersions
        }
        if !request.resourceNamesSubscribe.isEmpty || !request.resourceNamesUnsubscribe.isEmpty {
            type.subscriptionChanged = true
        }
        for name in request.resourceNamesSubscribe {
            if name == "*" { type.wildcard = true } else { type.subscribed.insert(name) }
        }
        for name in request.resourceNamesUnsubscribe {
            if name == "*" {
                type.wildcard = false
            } else {
                type.subscribed.remove(name)
                type.known[name] = nil
            }
        }
        if !type.wildcard {
            type.known = type.known.filter { type.subscribed.contains($0.key) }
        }
        guard !request.responseNonce.isEmpty else { return .subscription }
        guard request.responseNonce == type.lastNonce else { return .stale }
        type.awaitingReply = false
        if request.hasErrorDetail {
            return .nack(
                NACKRecord(
                    node: node, typeURL: typeURL, acceptedVersion: type.ackedVersion ?? "",
                    rejectedVersion: type.sentVersion ?? "", rejectedNonce: request.responseNonce,
                    message: request.errorDetail.message))
        }
        type.ackedVersion = type.sentVersion
        return .ack(version: type.sentVersion ?? "")
    }

    /// Responses that bring every subscribed type without a response outstanding to `snapshot`: call it after every
    /// request and whenever the snapshot changes. Nothing for a type whose client already has everything (its
    /// version then counts as sent), except a first answer.
    package mutating func responses(for snapshot: Snapshot) -> [Envoy_Service_Discovery_V3_DeltaDiscoveryResponse] {
        var responses: [Envoy_Service_Discovery_V3_DeltaDiscoveryResponse] = []
        for typeURL in types.keys.sorted() {
            // Unchanged version and subscriptions: the client has it all; skip the O(resources) diff.
            guard var type = types[typeURL], !type.awaitingReply,
                type.subscriptionChanged || type.sentVersion != snapshot.version(ofType: typeURL)
            else { continue }
            if let response = makeResponse(typeURL, snapshot: snapshot, state: &type) { responses.append(response) }
            types[typeURL] = type
        }
        return responses
    }

    private mutating func makeResponse(
        _ typeURL: String, snapshot: Snapshot, state type: inout TypeState
    ) -> Envoy_Service_Discovery_V3_DeltaDiscoveryResponse? {
        let set = snapshot.resources(ofType: typeURL)
        type.subscriptionChanged = false
        var removed: [String] = []
        if !type.initial.isEmpty {
            for (name, version) in type.initial where type.wildcard || type.subscribed.contains(name) {
                if let resource = set.resources[name] {
                    if Self.version(of: resource) == version { type.known[name] = resource }
                } else {
                    removed.append(name)
                }
            }
            type.initial = [:]
        }
        for name in type.known.keys where set.resources[name] == nil {
            removed.append(name)
            type.known[name] = nil
        }
        // Only the changed resources are sorted and hashed: a deploy at 10,000 clusters compares them, nothing more.
        var changed: [String] = []
        if type.wildcard {
            for (name, resource) in set.resources where type.known[name] != resource { changed.append(name) }
        } else {
            for name in type.subscribed {
                if let resource = set.resources[name], type.known[name] != resource { changed.append(name) }
            }
        }
        var resources: [Envoy_Service_Discovery_V3_Resource] = []
        for name in changed.sorted() {
            guard let resource = set.resources[name] else { continue }
            type.known[name] = resource
            var entry = Envoy_Service_Discovery_V3_Resource()
            entry.name = name
            entry.version = Self.version(of: resource)
            entry.resource = resource
            resources.append(entry)
        }
        guard !resources.isEmpty || !removed.isEmpty || !type.answered else {
            type.sentVersion = set.version
            return nil
        }
        nonceCounter += 1
        var response = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse()
        response.typeURL = typeURL
        response.systemVersionInfo = set.version
        response.nonce = String(nonceCounter)
        response.resources = resources
        response.removedResources = removed.sorted()
        type.lastNonce = response.nonce
        type.sentVersion = set.version
        type.awaitingReply = true
        type.answered = true
        return response
    }
}
