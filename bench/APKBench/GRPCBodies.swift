import EnvoyProtos
import Foundation
import SwiftProtobuf

/// `apk-bench grpc-bodies DIR TOKEN`: the unary gRPC request bodies (5-byte length prefix + message) that
/// `./build-apk.sh bench` sends with h2load (nghttp2's HTTP/2 load generator, written in C: it costs the shared 2
/// cores far less than a Swift client, so the latency it sees is closer to what Envoy's own client would):
/// - `check-floor.bin`, `check-jwt.bin`: the enforcer's `Check` of an unsecured and of a secured (2 scopes)
///   operation, as ``CheckLoadBenchmark`` sends them;
/// - `rls.bin`: a `ShouldRateLimit` for the descriptor `apk.rule=bench`, as ``RatelimitBenchmark`` sends it.
enum GRPCBodies {
    static func write(to directory: URL, token: String) throws {
        try frame(CheckLoadBenchmark.request(secured: false, token: token))
            .write(to: directory.appendingPathComponent("check-floor.bin"))
        try frame(CheckLoadBenchmark.request(secured: true, token: token))
            .write(to: directory.appendingPathComponent("check-jwt.bin"))
        try frame(RatelimitBenchmark.request).write(to: directory.appendingPathComponent("rls.bin"))
    }

    /// The gRPC message frame: uncompressed flag, big-endian length, the message.
    static func frame(_ message: some Message) throws -> Data {
        let bytes: Data = try message.serializedBytes()
        var framed = Data([0])
        withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { framed.append(contentsOf: $0) }
        framed.append(bytes)
        return framed
    }
}
