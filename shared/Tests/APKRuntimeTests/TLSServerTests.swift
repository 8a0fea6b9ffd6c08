import APKRuntime
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// TLS set-up from PEM files, checked end to end with a live HTTPS server on port 0.
@Suite struct TLSServerTests {
    private static var openssl: String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .map { "\($0)/openssl" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A throwaway self-signed certificate and key in a temporary folder.
    private func makeCertificate() throws -> (HTTPServerSettings.TLS, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("apk-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let certificate = folder.appendingPathComponent("cert.pem").path
        let key = folder.appendingPathComponent("key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.openssl))
        process.arguments = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
            "-subj", "/CN=localhost",
        ]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return (HTTPServerSettings.TLS(certificatePath: certificate, keyPath: key), folder)
    }

    @Test(.enabled(if: openssl != nil, "openssl is needed to make a test certificate"))
    func servesHTTPSWithConfiguredCertificate() async throws {
        let (tls, folder) = try makeCertificate()
        defer { try? FileManager.default.removeItem(at: folder) }
        let settings = HTTPServerSettings(host: "127.0.0.1", port: 0, tls: tls)
        #expect(settings.baseURL == "https://127.0.0.1:0")
        let router = Router()
        router.add(middleware: APKErrorMiddleware())
        OpsRoutes().add(to: router)
        let app = APKServer.application(
            router: router, settings: settings, server: try APKServer.serverBuilder(for: settings),
            logger: Logger(label: "tls-test"))
        try await app.test(.ahc(.https)) { client in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == #"{"health":"Ok"}"#)
        }
    }

    @Test(.enabled(if: openssl != nil, "openssl is needed to make a test certificate"))
    func keyThatIsNotPEMFails() throws {
        let (tls, folder) = try makeCertificate()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("not a key".utf8).write(to: URL(fileURLWithPath: tls.keyPath))
        #expect(throws: APKServer.SetupFailure.self) {
            try APKServer.serverBuilder(for: HTTPServerSettings(host: "127.0.0.1", port: 0, tls: tls))
        }
    }
}
