package import Foundation

/// Locates files under `test/fixtures/` from any test target, whatever the working directory.
package enum Fixtures {
    /// The repository root (found from this source file's path, so it works from any build folder).
    package static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }  // Fixtures.swift, APKTestSupport, Sources, test
        return url
    }()

    package static let directory = repositoryRoot.appendingPathComponent("test/fixtures")

    /// The URL of `test/fixtures/<relativePath>`.
    package static func url(_ relativePath: String) -> URL { directory.appendingPathComponent(relativePath) }

    /// The bytes of `test/fixtures/<relativePath>`.
    package static func data(_ relativePath: String) throws -> Data { try Data(contentsOf: url(relativePath)) }

    /// The text of `test/fixtures/<relativePath>`.
    package static func text(_ relativePath: String) throws -> String {
        String(decoding: try data(relativePath), as: UTF8.self)
    }

    /// Names of the files in a fixture folder, sorted.
    package static func files(in folder: String, withExtensions extensions: Set<String>? = nil) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url(folder).path)
            .filter { name in extensions.map { $0.contains((name as NSString).pathExtension) } ?? true }
            .sorted()
    }
}

/// Golden-file comparison: `APK_UPDATE_GOLDEN=1` rewrites the expected files instead of comparing.
package enum Golden {
    package static var updating: Bool { ProcessInfo.processInfo.environment["APK_UPDATE_GOLDEN"] == "1" }

    /// Compares `actual` with `test/fixtures/<relativePath>`; returns a readable difference, or nil when equal.
    /// With `APK_UPDATE_GOLDEN=1` the file is (re)written and nil returned.
    package static func difference(_ actual: String, goldenFile relativePath: String) throws -> String? {
        let url = Fixtures.url(relativePath)
        if updating {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: url)
            return nil
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            return "golden file \(relativePath) is missing; run with APK_UPDATE_GOLDEN=1 to create it"
        }
        return compare(actual, expected: expected, name: relativePath)
            .map { $0 + "\n(rerun with APK_UPDATE_GOLDEN=1 to accept, then review the diff)" }
    }

    /// Compares `actual` with a hand-written expectation of the reference's behaviour (`test/fixtures/reference/…`),
    /// which `APK_UPDATE_GOLDEN` never rewrites; returns a readable difference, or nil when equal.
    package static func difference(_ actual: String, referenceFile relativePath: String) throws -> String? {
        compare(actual, expected: try Fixtures.text(relativePath), name: relativePath)
    }

    private static func compare(_ actual: String, expected: String, name relativePath: String) -> String? {
        guard expected != actual else { return nil }
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(e.count, a.count) {
            let el = i < e.count ? String(e[i]) : "<end of file>"
            let al = i < a.count ? String(a[i]) : "<end of file>"
            if el != al {
                return "\(relativePath) differs at line \(i + 1):\n  expected: \(el)\n  actual:   \(al)"
            }
        }
        return "\(relativePath) differs"
    }
}
