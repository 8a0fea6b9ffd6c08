import APKStore
import Testing

/// The conformance suite (``ConformanceCheck``) against the in-memory backend.
@Suite struct InMemoryStoreConformanceTests {
    @Test(arguments: ConformanceCheck.allCases)
    func conformance(_ check: ConformanceCheck) async throws {
        try await ResourceStoreConformance(store: InMemoryResourceStore(), controlPlane: InMemoryControlPlaneStore()).run(check)
    }
}

/// The same suite against PostgreSQL (`APK_TEST_DATABASE_URL`), one fresh database per check.
@Suite(.enabled(if: PostgresTestDatabase.isAvailable, PostgresTestDatabase.skipMessage))
struct PostgresStoreConformanceTests {
    @Test(arguments: ConformanceCheck.allCases)
    func conformance(_ check: ConformanceCheck) async throws {
        try await PostgresTestDatabase.withStore { store in
            try await ResourceStoreConformance(store: store.resources, controlPlane: store.controlPlane).run(check)
        }
    }
}
