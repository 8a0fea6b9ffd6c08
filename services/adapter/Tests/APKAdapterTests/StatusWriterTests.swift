import APKAdapter
import APKModel
import APKStore
import Foundation
import Logging
import Testing

/// Statuses are written off the control loop: coalesced per API (newest wins), in batches, and never lost while the
/// writer runs.
@Suite struct StatusWriterTests {
    @Test func writesTheNewestStatusOfEveryAPIInBatches() async throws {
        let fixture = InMemoryResourceStoreFixture()
        try await fixture.deploy("golden/bundles/employee.yaml", api: GatewayStateTests.employee)
        let key = ResourceKey(kind: "API", namespace: "default", name: GatewayStateTests.employee)
        let writer = StatusWriter(store: fixture.store, namespace: "default", logger: Logger(label: "test"))
        let failed = APIStatus(accepted: false, status: "Failed", message: "first")
        let deployed = APIStatus(accepted: true, status: "Deployed", message: "second")
        // Queued before the writer runs, the second submission replaces the first; unknown APIs are skipped.
        writer.submit([GatewayStateTests.employee: failed, "no-such-api": failed])
        writer.submit([GatewayStateTests.employee: deployed])
        #expect(writer.backlog == 2)
        var names: [String: APIStatus] = [:]
        for index in 0..<(StatusWriter.batchSize + 5) { names["missing-\(index)"] = failed }
        writer.submit(names)  // more than one batch
        writer.finish()
        await writer.run()
        #expect(writer.backlog == 0)
        #expect(writer.writtenCount == StatusWriter.batchSize + 7)
        let stored = try #require(await fixture.store.get(key)?.status)
        #expect(deployed.matches(stored))
        #expect(!failed.matches(stored))
        let events = await fixture.store.events(after: 0, limit: 10_000).filter { $0.resource.resource.name == key.name }
        #expect(events.filter { $0.type == .modified }.count == 1, "one status write for the API, the newest")
    }
}
