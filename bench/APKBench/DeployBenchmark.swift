import APKModel
import APKStore
import Foundation
import Logging
import APKConversion

/// Deploys per second and p50/p99 latency of the deploy core — apk-conf validation, CR bundle generation and the
/// transactional apply — with `preload` APIs already stored. Subject: PostgreSQL (`DATABASE_URL`); baseline: the
/// in-memory store, interleaved deploy by deploy (baseline, subject, baseline, …) in the same run.
/// Not included: HTTP parsing and token verification (measured by the deployer's own tests only for behaviour).
struct DeployBenchmark {
    var databaseURL: String
    var preload: Int
    var deploys: Int

    func run() async throws {
        print(Machine.describe())
        print("deploy core (validate + build bundle + transactional apply), \(preload) APIs preloaded, \(deploys) measured deploys each")
        var logger = Logger(label: "apk-bench")
        logger.logLevel = .error
        let store = PostgresStore(configuration: try PostgresStore.Configuration(url: databaseURL), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.makeService(migrate: false).run() }
            defer { group.cancelAll() }
            try await store.migrate()
            let memory = InMemoryResourceStore()
            let namespace = "bench-\(UUID().uuidString.prefix(8).lowercased())"
            print("preloading \(preload) APIs into each store …")
            for i in 0..<preload {
                let bundle = try Self.bundle(index: i, revision: 0)
                _ = try await store.resources.apply(bundle, namespace: namespace)
                _ = try await memory.apply(bundle, namespace: namespace)
            }
            var baseline: [Double] = []
            var subject: [Double] = []
            let clock = ContinuousClock()
            var postgresTotal: Duration = .zero
            for round in 0..<deploys {
                let index = round % max(preload, 1)
                baseline.append(try await Self.milliseconds {
                    _ = try await memory.apply(try Self.bundle(index: index, revision: round + 1), namespace: namespace)
                })
                let elapsed = try await clock.measure {
                    _ = try await store.resources.apply(try Self.bundle(index: index, revision: round + 1), namespace: namespace)
                }
                postgresTotal += elapsed
                subject.append(Self.ms(elapsed))
            }
            let b50 = Self.percentile(baseline, 0.5), b99 = Self.percentile(baseline, 0.99)
            let s50 = Self.percentile(subject, 0.5), s99 = Self.percentile(subject, 0.99)
            print(String(format: "in-memory (baseline): p50 %.2f ms  p99 %.2f ms", b50, b99))
            print(String(format: "PostgreSQL:           p50 %.2f ms  p99 %.2f ms  (%.1fx / %.1fx baseline)", s50, s99, s50 / b50, s99 / b99))
            print(String(format: "PostgreSQL deploys per second (sequential): %.1f", Double(deploys) / Self.ms(postgresTotal) * 1000))
        }
    }

    /// The `employee`-style apk-conf with a per-API name and base path; `revision` changes one operation so every
    /// measured deploy writes.
    static func bundle(index: Int, revision: Int) throws -> CRBundle {
        let yaml = """
            name: bench-api-\(index)
            basePath: /bench/\(index)
            version: "1.0"
            type: REST
            endpointConfigurations:
              production:
                - endpoint: http://backend-\(index):8080/v1
            operations:
              - target: /items
                verb: GET
              - target: /items
                verb: POST
              - target: /items/{id}
                verb: GET
              - target: /items/{id}/r\(revision)
                verb: PUT
            """
        let conf = try ApkConfLoader().load(Data(yaml.utf8))
        return try CRBundleBuilder().build(conf: conf, definition: nil, organization: "default")
    }

    static func milliseconds(_ body: () async throws -> Void) async throws -> Double {
        ms(try await ContinuousClock().measure { try await body() })
    }

    static func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p + 0.5))]
    }
}
