import APKAuth
import APKAuthPlan
import APKModel
import APKTestTokens
import Foundation
import Testing

/// A mutation fuzzer for the token path every request goes through (`CompactJWS.parse`, the JSON parser, signature
/// and claim checks, the evaluator), run in CI for a fixed number of inputs from a fixed seed, so a failure is
/// reproducible: `APK_FUZZ_SEED=<seed> APK_FUZZ_ITERATIONS=<n> swift test --filter TokenFuzzTests` (a longer run
/// locally: raise the iterations). Inputs start from valid access tokens and internal keys and get byte flips,
/// insertions, deletions, segment swaps and splices, base64 garbage, oversized and deeply nested JSON.
///
/// Properties: nothing traps or hangs (the process would die), and a mutated credential is **never** accepted unless
/// its decoded header, payload and signature are byte-identical to a genuine one (base64url's unused trailing bits
/// may differ: that is encoding, not content).
@Suite struct TokenFuzzTests {
    static let seed = UInt64(ProcessInfo.processInfo.environment["APK_FUZZ_SEED"] ?? "") ?? 0x5EED_A9C0_11ED_2026
    static let iterations = Int(ProcessInfo.processInfo.environment["APK_FUZZ_ITERATIONS"] ?? "") ?? 20_000

    /// SplitMix64: small, fast, and the same sequence on every machine.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let api = try! AuthPlanBuilder.api(id: "api-1", organization: "default", authentication: nil, policy: nil)
    static let operation = OperationAuthPlan(target: "/orders/{id}", secured: true, scopes: [])

    /// The decoded segments of a compact token (nil when it has not three decodable segments).
    static func content(_ token: String) -> [[UInt8]]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let decoded = parts.compactMap { Base64URL.decode($0) }
        return decoded.count == 3 ? decoded : nil
    }

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \"{}[]:,\\\u{0}é".utf8)

    static func mutate(_ token: String, others: [String], using random: inout Generator) -> String {
        var bytes = Array(token.utf8)
        let rounds = Int.random(in: 1...4, using: &random)
        for _ in 0..<rounds {
            switch Int.random(in: 0..<10, using: &random) {
            case 0 where !bytes.isEmpty:  // flip one bit
                let index = Int.random(in: 0..<bytes.count, using: &random)
                bytes[index] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
            case 1 where !bytes.isEmpty:  // replace a byte with one of the alphabet
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = alphabet.randomElement(using: &random)!
            case 2:  // insert
                bytes.insert(alphabet.randomElement(using: &random)!, at: Int.random(in: 0...bytes.count, using: &random))
            case 3 where !bytes.isEmpty:  // delete a run
                let start = Int.random(in: 0..<bytes.count, using: &random)
                bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...8, using: &random)))
            case 4:  // splice a segment of another credential
                let donor = others.randomElement(using: &random)!.split(separator: ".", omittingEmptySubsequences: false)
                var parts = String(decoding: bytes, as: UTF8.self).split(separator: ".", omittingEmptySubsequences: false)
                    .map(String.init)
                if !parts.isEmpty, !donor.isEmpty {
                    parts[Int.random(in: 0..<parts.count, using: &random)] = String(donor.randomElement(using: &random)!)
                }
                bytes = Array(parts.joined(separator: ".").utf8)
            case 5:  // a payload segment with hostile JSON
                let json: String = switch Int.random(in: 0..<5, using: &random) {
                case 0: String(repeating: "[", count: Int.random(in: 10...5000, using: &random))
                case 1: "{\"exp\":1e999,\"iss\":\"https://idp.am.wso2.com/token\",\"sub\":\"x\"}"
                case 2: "{\"a\":\"" + String(repeating: "\\u0000", count: 500) + "\"}"
                case 3: "{" + (0..<200).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
                default: "{\"exp\":-1,\"nbf\":\"soon\",\"iss\":null,\"scope\":[1,{}]}"
                }
                var parts = String(decoding: bytes, as: UTF8.self).split(separator: ".", omittingEmptySubsequences: false)
                    .map(String.init)
                if parts.count >= 2 { parts[1] = Base64URL.encode(Array(json.utf8)) }
                bytes = Array(parts.joined(separator: ".").utf8)
            case 6:  // more or fewer segments
                bytes += Bool.random(using: &random) ? Array(".".utf8) : Array(".e30.e30".utf8)
            case 7 where bytes.count > 1:  // truncate
                bytes.removeLast(Int.random(in: 1...min(bytes.count - 1, 40), using: &random))
            case 8:  // a header naming another algorithm or key
                let header = ["{\"alg\":\"none\"}", "{\"alg\":\"HS256\",\"kid\":\"k1\"}", "{\"alg\":\"RS256\",\"kid\":\"../../x\"}",
                              "{\"alg\":\"ES256\",\"kid\":\"k1\"}", "{}"].randomElement(using: &random)!
                var parts = String(decoding: bytes, as: UTF8.self).split(separator: ".", omittingEmptySubsequences: false)
                    .map(String.init)
                if !parts.isEmpty { parts[0] = Base64URL.encode(Array(header.utf8)) }
                bytes = Array(parts.joined(separator: ".").utf8)
            default:  // duplicate a random run (length growth)
                if !bytes.isEmpty {
                    let start = Int.random(in: 0..<bytes.count, using: &random)
                    bytes.insert(contentsOf: bytes[start..<min(bytes.count, start + 64)], at: start)
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func mutatedCredentialsAreNeverAccepted() async {
        let genuineToken = F.token()
        let genuineKey = F.internalKey(api: "api-1")
        let genuine = [genuineToken, genuineKey]
        let genuineContent = genuine.compactMap(Self.content)
        var random = Generator(state: Self.seed)
        var accepted = 0
        var parsed = 0
        for iteration in 0..<Self.iterations {
            if iteration % 500 == 0 { await Task.yield() }  // a long loop must not hold a thread of the shared pool
            let original = genuine.randomElement(using: &random)!
            let input = Self.mutate(original, others: genuine, using: &random)
            if (try? CompactJWS.parse(input)) != nil { parsed += 1 }
            let asKey = Bool.random(using: &random)
            let headers = asKey ? [(name: "internal-key", value: input)] : [(name: "authorization", value: "Bearer " + input)]
            let decision = AuthEvaluator.decide(
                api: Self.api, operation: Self.operation, keyType: .production,
                request: AuthRequest(method: "GET", headers: headers), keys: F.keys, now: F.now)
            guard case .allow = decision else { continue }
            accepted += 1
            let same = Self.content(input).map { content in genuineContent.contains { $0 == content } } ?? false
            #expect(same, "iteration \(iteration) (seed \(Self.seed)): a mutated credential was accepted: \(input.prefix(200))")
            if !same { return }
        }
        print("TokenFuzzTests: \(Self.iterations) inputs (seed \(Self.seed)): \(parsed) parsed, \(accepted) accepted unchanged")
        // The fuzzer reaches past the parser (not only garbage) and some mutations keep a token intact.
        #expect(parsed > Self.iterations / 20, "only \(parsed) of \(Self.iterations) inputs parsed")
        #expect(accepted < Self.iterations / 2)
    }
}
