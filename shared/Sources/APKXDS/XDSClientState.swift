package import EnvoyProtos
import SwiftProtobuf

/// The protocol state of ``XDSClient``: pure, no I/O. It lives across streams, so a reconnect resumes from the last
/// accepted versions.
///
/// - ``startStream()`` gives one request per subscribed type carrying the last accepted version (empty nonce): the
///   server answers only types whose version differs (ADSStreamState treats an equal version as an ACK).
/// - ``receive(_:)`` validates a response: an unsubscribed or missing type URL is ignored (no reply); a resource whose
///   `Any` type URL is not the response's is rejected without calling the handler; otherwise it is delivered.
/// - ``accept(_:)`` records the version and gives the ACK (`version_info` = the new version, `response_nonce` = its
///   nonce); ``reject(_:message:)`` gives the NACK (`version_info` = the previous accepted version, the same nonce,
///   `error_detail` set). Neither re-requests anything, so a NACK cannot start a resend loop.
package struct XDSClientState: Sendable {
    /// What to do with one discovery response.
    package enum Received: Sendable {
        /// Call the handler with this update, then ``XDSClientState/accept(_:)`` or
        /// ``XDSClientState/reject(_:message:)``.
        case deliver(XDSClient.Update)
        /// Send this NACK; the content was invalid, the handler is not called.
        case reject(Envoy_Service_Discovery_V3_DiscoveryRequest, reason: XDSClientError)
        /// Ignore the response (not a subscribed type); nothing is sent.
        case ignore(reason: String)
    }

    /// The type URL of the optional `envoy.service.discovery.v3.Resource` wrapper a server may put around resources.
    package static let resourceWrapperTypeURL = "type.googleapis.com/envoy.service.discovery.v3.Resource"

    /// `google.rpc.Code.INTERNAL`, the code Envoy puts in its own NACKs.
    private static let nackCode: Int32 = 13

    private let node: Envoy_Config_Core_V3_Node
    private let subscriptions: [XDSClient.Subscription]
    private var accepted: [String: String] = [:]

    /// Creates the state; a type URL listed twice is subscribed once, with the union of the names (wildcard wins).
    package init(nodeID: String, cluster: String, subscriptions: [XDSClient.Subscription]) {
        var node = Envoy_Config_Core_V3_Node()
        node.id = nodeID
        node.cluster = cluster
        node.userAgentName = "apk-xds-client"
        self.node = node
        var merged: [XDSClient.Subscription] = []
        for subscription in subscriptions where !subscription.typeURL.isEmpty {
            if let index = merged.firstIndex(where: { $0.typeURL == subscription.typeURL }) {
                let names = merged[index].resourceNames
                let wildcard = names.isEmpty || subscription.resourceNames.isEmpty
                merged[index].resourceNames =
                    wildcard ? [] : names + subscription.resourceNames.filter { !names.contains($0) }
            } else {
                merged.append(subscription)
            }
        }
        self.subscriptions = merged
    }

    /// The subscribed type URLs, in request order.
    package var subscribedTypes: [String] { subscriptions.map(\.typeURL) }

    /// The last version accepted per type URL (types never accepted are absent).
    package var acceptedVersions: [String: String] { accepted }

    /// The requests that open a stream: one per subscription, with the last accepted version and no nonce.
    package func startStream() -> [Envoy_Service_Discovery_V3_DiscoveryRequest] {
        subscriptions.map { subscription in
            request(subscription.typeURL, version: accepted[subscription.typeURL] ?? "", nonce: "")
        }
    }

    /// Validates one response (see the type's doc comment).
    package func receive(_ response: Envoy_Service_Discovery_V3_DiscoveryResponse) -> Received {
        let typeURL = response.typeURL
        guard subscriptions.contains(where: { $0.typeURL == typeURL }) else {
            return .ignore(reason: typeURL.isEmpty ? "response without type URL" : "type URL not subscribed")
        }
        var resources: [Google_Protobuf_Any] = []
        resources.reserveCapacity(response.resources.count)
        for (index, resource) in response.resources.enumerated() {
            switch Self.unwrap(resource, expecting: typeURL, index: index) {
            case .success(let unwrapped):
                resources.append(unwrapped)
            case .failure(let error):
                var nack = request(typeURL, version: accepted[typeURL] ?? "", nonce: response.nonce)
                nack.errorDetail.code = Self.nackCode
                nack.errorDetail.message = error.description
                return .reject(nack, reason: error)
            }
        }
        return .deliver(
            XDSClient.Update(
                typeURL: typeURL, version: response.versionInfo, nonce: response.nonce, resources: resources))
    }

    /// Records that the handler accepted `update` and returns the ACK.
    package mutating func accept(_ update: XDSClient.Update) -> Envoy_Service_Discovery_V3_DiscoveryRequest {
        accepted[update.typeURL] = update.version
        return request(update.typeURL, version: update.version, nonce: update.nonce)
    }

    /// Returns the NACK for `update`, which the handler rejected with `message`; the accepted version is unchanged.
    package func reject(_ update: XDSClient.Update, message: String) -> Envoy_Service_Discovery_V3_DiscoveryRequest {
        var nack = request(update.typeURL, version: accepted[update.typeURL] ?? "", nonce: update.nonce)
        nack.errorDetail.code = Self.nackCode
        nack.errorDetail.message = message
        return nack
    }

    private func request(
        _ typeURL: String, version: String, nonce: String
    ) -> Envoy_Service_Discovery_V3_DiscoveryRequest {
        var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
        request.node = node
        request.typeURL = typeURL
        request.versionInfo = version
        request.responseNonce = nonce
        request.resourceNames = subscriptions.first { $0.typeURL == typeURL }?.resourceNames ?? []
        return request
    }

    /// The resource itself, unwrapped from an `envoy.service.discovery.v3.Resource` if the server wrapped it.
    private static func unwrap(
        _ resource: Google_Protobuf_Any, expecting typeURL: String, index: Int
    ) -> Result<Google_Protobuf_Any, XDSClientError> {
        var resource = resource
        if resource.typeURL == resourceWrapperTypeURL, typeURL != resourceWrapperTypeURL {
            guard let wrapper = try? Envoy_Service_Discovery_V3_Resource(unpackingAny: resource) else {
                return .failure(
                    XDSClientError(
                        .undecodableResource, "resource \(index) of \(typeURL): undecodable Resource wrapper"))
            }
            resource = wrapper.resource
        }
        guard resource.typeURL == typeURL else {
            return .failure(
                XDSClientError(
                    .unexpectedResourceType,
                    "resource \(index) has type '\(resource.typeURL)', expected \(typeURL)"))
        }
        return .success(resource)
    }
}
