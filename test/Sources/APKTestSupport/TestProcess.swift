import Foundation
import Synchronization

package struct TestSupportError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

package enum FreePort {
    /// Every port handed out by this test process: never handed out twice.
    private static let handedOut = Mutex<Set<Int>>([])

    /// A port the kernel reports free on 127.0.0.1 and that this process has not handed out before.
    ///
    /// The kernel's answer alone is not enough: the probe socket is closed at once, and the port is bound only when
    /// the service starts, so a second call before that can get the same port back — a stack then started its
    /// enforcer on its adapter's port (`bind: Address already in use`), and the readiness poll, answered by the
    /// adapter, hid it until every request failed (seen in CI).
    package static func next() throws -> Int {
        for _ in 0..<100 {
            let port = try probe()
            if handedOut.withLock({ $0.insert(port).inserted }) { return port }
        }
        throw TestSupportError("no fresh free port after 100 tries")
    }

    /// Bind to port 0, read the port, close.
    private static func probe() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestSupportError("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Runs a command without blocking a thread of the cooperative pool: output goes to a file, completion is polled.
package enum Command {
    /// `includeErrors` sends standard error to the output too (for diagnostics in failure messages).
    package static func run(_ arguments: [String], includeErrors: Bool = false) async throws -> (status: Int32, output: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("apk-cmd-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = includeErrors ? handle : FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(5)) }  // completion poll
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: output), as: UTF8.self))
    }
}

/// What `./build-apk.sh test` hands the tests: `APK_TEST_DATABASE_URL` (a PostgreSQL server where tests may create
/// databases, from `scripts/postgres.sh test-env`) and `APK_ENVOY_BIN` (Envoy 1.40). Empty counts as unset.
package enum TestEnvironment {
    package static let databaseURL: String? = value("APK_TEST_DATABASE_URL")
    package static let envoyBinary: String? = value("APK_ENVOY_BIN")

    private static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}
