import APKModel
import APKTestSupport
import Foundation
import Testing
import APKConversion

/// `generate-configuration` against the reference's behaviour (issue 13 item 1): each input of
/// `test/fixtures/reference/generate-configuration` must give, byte for byte, the apk-conf written by hand beside it
/// from the reference's sources and tests (see that folder's README). These expectations are never regenerated.
@Suite struct OpenAPIReferenceTests {
    static let folder = "reference/generate-configuration"
    static let cases = ["methods-and-paths", "scopes-default-scheme", "x-scope-and-oauth2security", "servers-under-paths",
                        "no-operations"]

    @Test func everyCaseInTheFolderIsListed() throws {
        let inputs = try Fixtures.files(in: Self.folder, withExtensions: ["yaml"])
            .map { $0.replacingOccurrences(of: ".openapi.yaml", with: "") }
        #expect(inputs == Self.cases.sorted())
    }

    @Test(arguments: cases)
    func generatedTextEqualsTheReferences(_ name: String) throws {
        let conf = try OpenAPIConverter().apkConf(fromDefinition: try Fixtures.data("\(Self.folder)/\(name).openapi.yaml"))
        let difference = try Golden.difference(conf.yaml(), referenceFile: "\(Self.folder)/\(name).apk-conf")
        #expect(difference == nil, "\(difference ?? "")")
    }

    /// The text reads back as the same apk-conf (the quoting only changes the form).
    @Test(arguments: cases)
    func referenceTextLoadsAsTheSameConf(_ name: String) throws {
        let conf = try OpenAPIConverter().apkConf(fromDefinition: try Fixtures.data("\(Self.folder)/\(name).openapi.yaml"))
        let parsed = try DocumentParser().parse(try Fixtures.data("\(Self.folder)/\(name).apk-conf"))
        #expect(parsed == conf.jsonValue)
    }
}
