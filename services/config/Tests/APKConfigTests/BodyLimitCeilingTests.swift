import APKConfig
import APKRuntime
import APKSupport
import Testing

/// Issue 14 item 3: the configurable body limit has an upper bound.
@Suite struct BodyLimitCeilingTests {
    @Test func aBodyLimitAboveTheCeilingStopsStartUp() throws {
        let ceiling = HTTPServerSettings.maxBodyBytesCeiling
        let fine = try ConfigServiceConfiguration(reader: ConfigReader(environment: ["LIMITS_MAX_BODY_BYTES": "\(ceiling)"]))
        #expect(fine.maxBodyBytes == ceiling)
        #expect(throws: ConfigReader.Failure.self) {
            try ConfigServiceConfiguration(reader: ConfigReader(environment: ["LIMITS_MAX_BODY_BYTES": "\(ceiling + 1)"]))
        }
    }
}
