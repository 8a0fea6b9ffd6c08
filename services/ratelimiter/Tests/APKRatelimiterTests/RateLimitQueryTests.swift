import APKRatelimiter
import EnvoyProtos
import SwiftProtobuf
import Testing

/// Validation of `ShouldRateLimit` requests: request-level faults are refused with a stable code; a descriptor that
/// is not one well-formed `apk.rule` entry is only `malformed` (allowed), never a crash.
@Suite struct RateLimitQueryTests {
    let limits = RateLimitQueryLimits(domain: "apk", maxDescriptors: 3, maxHitsAddend: 100)

    private func code(_ request: Envoy_Service_Ratelimit_V3_RateLimitRequest) -> RatelimiterError.Code? {
        do {
            _ = try RateLimitQuery.parse(request, limits: limits)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func wellFormedDescriptorsAreReadInOrderWithOneHitByDefault() throws {
        let queries = try RateLimitQuery.parse(rlsRequest(["a", "b"]), limits: limits)
        #expect(queries == [.rule(descriptorValue: "a", hits: 1), .rule(descriptorValue: "b", hits: 1)])
    }

    @Test func hitsAddendOfTheRequestAndOfEachDescriptor() throws {
        var request = rlsRequest(["a", "b", "c"], hitsAddend: 7)
        request.descriptors[1].hitsAddend = Google_Protobuf_UInt64Value(3)
        request.descriptors[2].hitsAddend = Google_Protobuf_UInt64Value(0)  // read only
        let queries = try RateLimitQuery.parse(request, limits: limits)
        #expect(queries == [
            .rule(descriptorValue: "a", hits: 7), .rule(descriptorValue: "b", hits: 3), .rule(descriptorValue: "c", hits: 0),
        ])
    }

    @Test func requestLevelFaultsAreRefusedWithStableCodes() {
        #expect(code(rlsRequest(["a"], domain: "other")) == .invalidDomain)
        #expect(code(rlsRequest(["a"], domain: "")) == .invalidDomain)
        #expect(code(rlsRequest([])) == .noDescriptors)
        #expect(code(rlsRequest(["a", "b", "c", "d"])) == .tooManyDescriptors)
        #expect(code(rlsRequest(["a"], hitsAddend: 101)) == .hitsAddendOutOfRange)
        #expect(code(rlsRequest(["a"], hitsAddend: 100)) == nil)
        var request = rlsRequest(["a"])
        request.descriptors[0].hitsAddend = Google_Protobuf_UInt64Value(UInt64.max)
        #expect(code(request) == .hitsAddendOutOfRange)
    }

    @Test func malformedDescriptorsAreAllowedNotRefused() throws {
        var request = rlsRequest(["ok", "x", "x", "x"])
        request.descriptors[1].entries = []  // no entry
        request.descriptors[2].entries[0].key = "generic_key"  // another key
        request.descriptors[3].entries.append(request.descriptors[3].entries[0])  // two entries
        let limits = RateLimitQueryLimits(domain: "apk", maxDescriptors: 8, maxHitsAddend: 100)
        var more = request
        more.descriptors.append(contentsOf: rlsRequest([""]).descriptors)  // empty value
        more.descriptors.append(contentsOf: rlsRequest([String(repeating: "v", count: 513)]).descriptors)  // too long
        let queries = try RateLimitQuery.parse(more, limits: limits)
        #expect(queries == [.rule(descriptorValue: "ok", hits: 1)] + Array(repeating: .malformed, count: 5))
    }

    @Test func errorsCarryTheirCodeFirst() {
        let error = RatelimiterError(.invalidDomain, "domain 'x' is not served")
        #expect(error.description == "ratelimit_invalid_domain: domain 'x' is not served")
    }
}
