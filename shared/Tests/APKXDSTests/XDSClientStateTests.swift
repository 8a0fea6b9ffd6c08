import APKSupport
import APKProtos
import EnvoyProtos
import Foundation
import SwiftProtobuf
import Testing

@testable import APKXDS

/// The client's pure protocol state and its back-off policy.
@Suite struct XDSClientStateTests {
    typealias Response = Envoy_Service_Discovery_V3_DiscoveryResponse

    static let apiType = XDSClient.typeURL(of: Apk_Discovery_V1_Api.self)
    static let rateLimitType = XDSClient.typeURL(of: Apk_Discovery_V1_RateLimitConfig.self)

    static func state() -> XDSClientState {
        XDSClientState(
            nodeID: "enforcer-1", cluster: "apk",
            subscriptions: [.init(Apk_Discovery_V1_Api.self), .init(typeURL: rateLimitType, resourceNames: ["rl"])])
    }

    static func response(
        _ typeURL: String = apiType, version: String, nonce: String, _ resources: [Google_Protobuf_Any]
    ) -> Response {
        var response = Response()
        response.typeURL = typeURL
        response.versionInfo = version
        response.nonce = nonce
        response.resources = resources
        return response
    }

    static func api(_ name: String) throws -> Google_Protobuf_Any {
        var api = Apk_Discovery_V1_Api()
        api.name = name
        return try Google_Protobuf_Any(message: api)
    }

    @Test func typeURLOfAMessageIsTheOneAnyWrites() throws {
        #expect(Self.apiType == "type.googleapis.com/apk.discovery.v1.Api")
        #expect(try Self.api("a").typeURL == Self.apiType)
    }

    @Test func streamOpensWithOneRequestPerTypeCarryingNodeNamesAndAcceptedVersion() throws {
        var state = Self.state()
        let first = state.startStream()
        #expect(first.map(\.typeURL) == [Self.apiType, Self.rateLimitType])
        #expect(first.allSatisfy { $0.node.id == "enforcer-1" && $0.node.cluster == "apk" })
        #expect(first.allSatisfy { $0.versionInfo.isEmpty && $0.responseNonce.isEmpty && !$0.hasErrorDetail })
        #expect(first.map(\.resourceNames) == [[], ["rl"]])

        guard case .deliver(let update) = state.receive(Self.response(version: "v1", nonce: "7", [try Self.api("a")]))
        else {
            Issue.record("expected a delivery")
            return
        }
        _ = state.accept(update)
        // A reconnect resumes from the accepted version, without a nonce (the old stream's nonces mean nothing).
        let again = state.startStream()
        #expect(again.map(\.versionInfo) == ["v1", ""])
        #expect(again.allSatisfy { $0.responseNonce.isEmpty })
    }

    @Test func ackCarriesTheNewVersionAndNonce() throws {
        var state = Self.state()
        guard case .deliver(let update) = state.receive(Self.response(version: "v1", nonce: "3", [try Self.api("a")]))
        else {
            Issue.record("expected a delivery")
            return
        }
        #expect(update.version == "v1" && update.resources.count == 1)
        let ack = state.accept(update)
        #expect(ack.typeURL == Self.apiType && ack.versionInfo == "v1" && ack.responseNonce == "3")
        #expect(!ack.hasErrorDetail)
        #expect(state.acceptedVersions == [Self.apiType: "v1"])
    }

    @Test func nackKeepsThePreviousVersionAndCarriesTheError() throws {
        var state = Self.state()
        guard case .deliver(let v1) = state.receive(Self.response(version: "v1", nonce: "1", [])),
            case .deliver(let v2) = state.receive(Self.response(version: "v2", nonce: "2", [try Self.api("b")]))
        else {
            Issue.record("expected deliveries")
            return
        }
        _ = state.accept(v1)
        let nack = state.reject(v2, message: "bad b")
        #expect(nack.versionInfo == "v1" && nack.responseNonce == "2")
        #expect(nack.errorDetail.message == "bad b" && nack.errorDetail.code == 13)
        #expect(state.acceptedVersions[Self.apiType] == "v1")
    }

    @Test func unsubscribedOrMissingTypesAreIgnored() throws {
        let state = Self.state()
        let listener = "type.googleapis.com/envoy.config.listener.v3.Listener"
        for typeURL in [listener, ""] {
            guard case .ignore = state.receive(Self.response(typeURL, version: "v1", nonce: "1", [])) else {
                Issue.record("expected \(typeURL) to be ignored")
                continue
            }
        }
        #expect(state.acceptedVersions.isEmpty)
    }

    @Test func aResourceOfAnotherTypeIsRejectedWithoutDelivery() throws {
        let state = Self.state()
        var wrongType = Apk_Discovery_V1_Subscription()
        wrongType.id = "s1"
        let resources = [try Self.api("a"), try Google_Protobuf_Any(message: wrongType)]
        let response = Self.response(version: "v2", nonce: "9", resources)
        guard case .reject(let nack, let reason) = state.receive(response) else {
            Issue.record("expected a rejection")
            return
        }
        #expect(reason.code == .unexpectedResourceType)
        #expect(nack.responseNonce == "9" && nack.versionInfo.isEmpty && nack.hasErrorDetail)
        #expect(nack.errorDetail.message.contains("XDS_UNEXPECTED_RESOURCE_TYPE"))
    }

    @Test func wrappedResourcesAreUnwrapped() throws {
        let state = Self.state()
        var wrapper = Envoy_Service_Discovery_V3_Resource()
        wrapper.name = "a"
        wrapper.resource = try Self.api("a")
        let response = Self.response(version: "v1", nonce: "1", [try Google_Protobuf_Any(message: wrapper)])
        guard case .deliver(let update) = state.receive(response) else {
            Issue.record("expected a delivery")
            return
        }
        #expect(try update.decode(Apk_Discovery_V1_Api.self).map(\.name) == ["a"])

        var broken = Google_Protobuf_Any()
        broken.typeURL = XDSClientState.resourceWrapperTypeURL
        broken.value = Data([0x0A, 0x05, 0x61])  // field 1, length 5, one byte: truncated
        guard case .reject(_, let reason) = state.receive(Self.response(version: "v2", nonce: "2", [broken])) else {
            Issue.record("expected a rejection")
            return
        }
        #expect(reason.code == .undecodableResource)
    }

    @Test func repeatedSubscriptionsMerge() {
        let named = XDSClientState(
            nodeID: "n", cluster: "",
            subscriptions: [
                .init(typeURL: Self.apiType, resourceNames: ["a"]),
                .init(typeURL: Self.apiType, resourceNames: ["b", "a"]),
            ])
        #expect(named.startStream().map(\.resourceNames) == [["a", "b"]])
        let wildcard = XDSClientState(
            nodeID: "n", cluster: "",
            subscriptions: [.init(typeURL: Self.apiType, resourceNames: ["a"]), .init(typeURL: Self.apiType)])
        #expect(wildcard.startStream().map(\.resourceNames) == [[]])
        #expect(XDSClientState(nodeID: "n", cluster: "", subscriptions: [.init(typeURL: "")]).subscribedTypes.isEmpty)
    }

    @Test func decodeHelpersRejectBadContent() throws {
        var garbage = Google_Protobuf_Any()
        garbage.typeURL = Self.apiType
        garbage.value = Data([0x0A, 0x05, 0x61])
        let bad = XDSClient.Update(typeURL: Self.apiType, version: "v1", nonce: "1", resources: [garbage])
        let expected = XDSClientError(
            .undecodableResource, "resource 0 of \(Self.apiType) is not a valid apk.discovery.v1.Api")
        #expect(throws: expected) {
            try bad.decode(Apk_Discovery_V1_Api.self)
        }
        let twice = XDSClient.Update(
            typeURL: Self.apiType, version: "v1", nonce: "1", resources: [try Self.api("a"), try Self.api("a")])
        #expect(throws: XDSClientError.self) { try twice.decode(Apk_Discovery_V1_Api.self, keyedBy: \.name) }
        let other = XDSClient.Update(typeURL: Self.apiType, version: "v1", nonce: "1", resources: [try Self.api("a")])
        #expect(throws: XDSClientError.self) { try other.decode(Apk_Discovery_V1_RateLimitConfig.self) }
        #expect(try other.decode(Apk_Discovery_V1_Api.self, keyedBy: \.name).keys.sorted() == ["a"])
    }
}

@Suite struct BackoffTests {
    @Test func growsExponentiallyUpToTheCap() {
        let backoff = Backoff(initial: .milliseconds(100), max: .seconds(1), multiplier: 2, jitter: 0)
        let delays = (0..<6).map { backoff.delay(attempt: $0, random: 0.5) }
        let expected: [Duration] = [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800)]
        #expect(delays == expected + [.seconds(1), .seconds(1)])
        #expect(backoff.delay(attempt: Int.max, random: 0.5) == .seconds(1))
    }

    @Test(arguments: [0.0, 0.25, 0.5, 0.75, 0.999_999])
    func jitterStaysWithinItsShareAndUnderTheCap(random: Double) {
        let backoff = Backoff.defaults
        let first = backoff.delay(attempt: 0, random: random)
        #expect(first >= .milliseconds(400) && first <= .milliseconds(600))
        #expect(backoff.delay(attempt: 30, random: random) <= .seconds(30))
        #expect(backoff.delay(attempt: 30, random: random) >= .seconds(24))
    }

    @Test func outOfRangeSettingsAreClampedNotTrapped() {
        let silly = Backoff(initial: .zero, max: .seconds(-1), multiplier: .nan, jitter: 7)
        let delay = silly.delay(attempt: 3, random: .infinity)
        #expect(delay >= .zero && delay <= .milliseconds(1))
        let huge = Backoff(initial: .seconds(1), max: .seconds(60), multiplier: .greatestFiniteMagnitude)
        #expect(huge.delay(attempt: 5, random: 0.5) == .seconds(60))
    }
}
