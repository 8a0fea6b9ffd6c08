package import EnvoyProtos

/// A NACK Envoy sent: it rejected `rejectedNonce`'s response for `typeURL` and still runs `acceptedVersion`.
package struct NACKRecord: Sendable, Equatable {
    /// The node that rejected the configuration.
    package var node: String
    /// The xDS type URL of the rejected response.
    package var typeURL: String
    /// The version Envoy keeps running (its `version_info`, "" if it never accepted one).
    package var acceptedVersion: String
    /// The version that was rejected (the one sent with `rejectedNonce`).
    package var rejectedVersion: String
    /// The nonce of the rejected response.
    package var rejectedNonce: String
    /// Envoy's error message, verbatim (not parsed).
    package var message: String

    package init(node: String, typeURL: String, acceptedVersion: String, rejectedVersion: String, rejectedNonce: String,
                 message: String) {
        self.node = node
        self.typeURL = typeURL
        self.acceptedVersion = acceptedVersion
        self.rejectedVersion = rejectedVersion
        self.rejectedNonce = rejectedNonce
        self.message = message
    }
}

/// The protocol state of one state-of-the-world ADS stream: pure, no I/O (BUILD-NOTES "ADS with Envoy 1.40").
///
/// Rules, per type URL:
/// - a request with a non-empty nonce other than the last one sent is stale and ignored;
/// - `error_detail` set is a NACK: recorded, nothing is resent until the snapshot's version of that type changes;
/// - `version_info` equal to the current version, with the current nonce and unchanged resource names, is an ACK:
///   no reply (replying would loop);
/// - anything else (first request, changed resource names, a newer snapshot) gets the full current set, new nonce;
/// - at most one response per type is outstanding: a newer snapshot is sent once Envoy has answered (ACK or NACK)
///   the previous response of that type, and then only the newest version. Envoy applies every response it gets,
///   so sending each intermediate snapshot of a burst would make it rebuild its configuration for each one, and
///   the responses would queue in memory meanwhile.
///
/// Reconnect decision: Envoy keeps its last accepted version across reconnects and sends it in the first request of
/// the new stream (empty nonce). If that version equals the snapshot's current version of the type, the request is
/// treated as an ACK and nothing is resent; any other version (including "") gets the current set. Versions are
/// compared as opaque strings, so equal strings must mean equal content — the publisher guarantees that.
package struct ADSStreamState: Sendable {
    /// What the stream should do with one request.
    package enum Outcome: Sendable, Equatable {
        /// Send this response.
        case respond(Envoy_Service_Discovery_V3_DiscoveryResponse)
        /// Envoy accepted `version`; do not reply.
        case ack(version: String)
        /// Envoy rejected a response; do not reply.
        case nack(NACKRecord)
        /// A reply to an older response; ignore.
        case stale
        /// Subscribed, but there is no snapshot yet; the first snapshot will answer.
        case waiting
        /// The request carried no type URL; ignore.
        case invalid
    }

    private struct TypeState: Sendable {
        var lastNonce: String?
        var sentVersion: String?
        var ackedVersion: String?
        var names: Set<String> = []
        /// A response was sent and Envoy has not answered it yet.
        var awaitingReply = false
    }

    /// The node id of the stream (from the first request's `node.id`).
    package var node: String
    private var types: [String: TypeState] = [:]
    private var nonceCounter: UInt64 = 0

    /// Creates the state of a new stream.
    package init(node: String) {
        self.node = node
    }

    /// Type URLs the client has asked for on this stream.
    package var subscribedTypes: [String] { types.keys.sorted() }

    /// The version Envoy last ACKed for a type on this stream.
    package func ackedVersion(ofType typeURL: String) -> String? { types[typeURL]?.ackedVersion }

    /// The nonce of the last response sent for a type.
    package func lastNonce(ofType typeURL: String) -> String? { types[typeURL]?.lastNonce }

    /// Applies one request from Envoy against the current snapshot (nil: none yet).
    package mutating func handle(
        _ request: Envoy_Service_Discovery_V3_DiscoveryRequest, snapshot: Snapshot?
    ) -> Outcome {
        let typeURL = request.typeURL
        guard !typeURL.isEmpty else { return .invalid }
        var type = types[typeURL] ?? TypeState()
        // A nonce we never sent on this stream (e.g. one from before a reconnect) is not stale: nothing newer exists.
        if !request.responseNonce.isEmpty, let last = type.lastNonce, request.responseNonce != last {
            return .stale
        }
        let names = Set(request.resourceNames)
        let firstRequest = types[typeURL] == nil
        type.awaitingReply = false  // not stale: it answers the last response (or precedes any)
        let namesChanged = !firstRequest && names != type.names
        type.names = names
        defer { types[typeURL] = type }

        if request.hasErrorDetail {
            return .nack(
                NACKRecord(
                    node: node, typeURL: typeURL, acceptedVersion: request.versionInfo,
                    rejectedVersion: type.sentVersion ?? "", rejectedNonce: request.responseNonce,
                    message: request.errorDetail.message))
        }
        guard let snapshot else { return .waiting }
        let current = snapshot.version(ofType: typeURL)
        let nonceMatches = request.responseNonce == (type.lastNonce ?? "")
        // A first request with no version (a fresh Envoy) is always answered, even when the type is absent.
        let freshFirstRequest = type.sentVersion == nil && request.versionInfo.isEmpty
        if request.versionInfo == current, nonceMatches, !namesChanged, !freshFirstRequest {
            type.ackedVersion = current
            if type.sentVersion == nil { type.sentVersion = current }  // reconnect: Envoy already runs it
            return .ack(version: current)
        }
        return .respond(makeResponse(typeURL, snapshot: snapshot, state: &type))
    }

    /// Responses for every subscribed type whose version in `snapshot` differs from the one last sent (or, for a
    /// type never sent, whose request has been waiting for a snapshot) and that has no response outstanding. Call it
    /// when the snapshot changes and after every request (an answer may free a type that has a newer version).
    package mutating func snapshotChanged(_ snapshot: Snapshot) -> [Envoy_Service_Discovery_V3_DiscoveryResponse] {
        var responses: [Envoy_Service_Discovery_V3_DiscoveryResponse] = []
        for typeURL in types.keys.sorted() {
            guard var type = types[typeURL], !type.awaitingReply, type.sentVersion != snapshot.version(ofType: typeURL)
            else { continue }
            responses.append(makeResponse(typeURL, snapshot: snapshot, state: &type))
            types[typeURL] = type
        }
        return responses
    }

    private mutating func makeResponse(
        _ typeURL: String, snapshot: Snapshot, state type: inout TypeState
    ) -> Envoy_Service_Discovery_V3_DiscoveryResponse {
        let set = snapshot.resources(ofType: typeURL)
        nonceCounter += 1
        var response = Envoy_Service_Discovery_V3_DiscoveryResponse()
        response.typeURL = typeURL
        response.versionInfo = set.version
        response.nonce = String(nonceCounter)
        let wildcard = type.names.isEmpty || TypeURL.wildcardTypes.contains(typeURL)
        let selected = set.resources.filter { wildcard || type.names.contains($0.key) }
        response.resources = selected.sorted { $0.key < $1.key }.map(\.value)
        type.lastNonce = response.nonce
        type.sentVersion = set.version
        type.awaitingReply = true
        return response
    }
}
