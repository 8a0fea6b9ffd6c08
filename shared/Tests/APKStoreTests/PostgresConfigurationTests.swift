import APKStore
import APKTestSupport
import Foundation
import Testing

/// `DATABASE_URL` parsing and the unreachable-database error path (no server needed).
@Suite struct PostgresConfigurationTests {
    typealias Configuration = PostgresStore.Configuration

    @Test func parsesATCPURLWithCredentialsAndOptions() throws {
        let configuration = try Configuration(url: "postgres://svc:p%40ss@db.example:6543/control?sslmode=require&application_name=deployer")
        #expect(configuration.endpoint == .tcp(host: "db.example", port: 6543))
        #expect(configuration.username == "svc")
        #expect(configuration.password == "p@ss")
        #expect(configuration.database == "control")
        #expect(configuration.tls == .require)
        #expect(configuration.applicationName == "deployer")
        #expect(configuration.description == "postgres://svc@db.example:6543/control", "no password in descriptions")
    }

    @Test func defaultsMatchTheLocalCluster() throws {
        let configuration = try Configuration(url: "postgres://apk@127.0.0.1:5432/apk")
        #expect(configuration.endpoint == .tcp(host: "127.0.0.1", port: 5432))
        #expect(configuration.password == nil)
        #expect(configuration.tls == .disable)
        #expect(try Configuration(url: "postgresql://apk@localhost/apk").endpoint == .tcp(host: "localhost", port: 5432))
    }

    @Test(arguments: [
        ("postgresql://apk@/apk?host=/tmp/pg/run", "/tmp/pg/run/.s.PGSQL.5432"),
        ("postgres://apk@:5433/apk?host=/tmp/pg/run/", "/tmp/pg/run/.s.PGSQL.5433"),
        ("postgres://apk@%2Fvar%2Frun%2Fpostgresql/apk", "/var/run/postgresql/.s.PGSQL.5432"),
        ("postgres://apk@/apk?host=/tmp/x/.s.PGSQL.7000", "/tmp/x/.s.PGSQL.7000"),
    ])
    func unixSocketURLs(url: String, path: String) throws {
        let configuration = try Configuration(url: url)
        #expect(configuration.endpoint == .unixSocket(path: path))
        #expect(configuration.database == "apk")
    }

    @Test func errorsNeverEchoTheURL() {
        for url in ["mysql://root:topsecret@h/db", "postgres://u:topsecret@h/db?sslmode=sometimes", "::not a url topsecret"] {
            do {
                _ = try Configuration(url: url)
                Issue.record("accepted \(url)")
            } catch {
                #expect(!"\(error)".contains("topsecret"))
            }
        }
    }

    @Test func environmentVariable() throws {
        #expect(try Configuration.fromEnvironment([:]) == nil)
        #expect(try Configuration.fromEnvironment(["DATABASE_URL": ""]) == nil)
        #expect(try Configuration.fromEnvironment(["DATABASE_URL": "postgres://a@b:1/c"])?.database == "c")
    }

    /// Nothing listens on the port: operations fail fast with `.unavailable`, and the message holds no secret.
    @Test func unreachableDatabaseIsUnavailable() async throws {
        var configuration = Configuration(host: "127.0.0.1", port: try FreePort.next(), username: "apk",
                                          password: "topsecret", database: "apk")
        configuration.connectTimeout = .milliseconds(800)
        let store = PostgresStore(configuration: configuration, logger: PostgresTestDatabase.logger)
        try await PostgresTestDatabase.run(store) { store in
            let elapsed = try await ContinuousClock().measure {
                do {
                    _ = try await store.resources.latestCursor()
                    Issue.record("a query succeeded without a server")
                } catch {
                    guard let storeError = error as? StoreError, case .unavailable(let message) = storeError else { throw error }
                    #expect(!message.contains("topsecret") && !message.contains("postgres://"))
                }
            }
            // A hang detector, not a speed target: the failure is bounded by the connect timeout and the pool's
            // attempts, which took 23 s once in a CI run on a 2-core machine busy with a parallel build.
            #expect(elapsed < .seconds(90))
            await #expect(throws: StoreError.self) { try await store.controlPlane.client(id: "x") }
            await #expect(throws: StoreError.self) { try await store.resources.apply(TestBundles.make(id: "a"), namespace: "n") }
            #expect(!store.isReady)
        }
    }
}
