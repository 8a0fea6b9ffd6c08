import APKModel
import APKStore
import Foundation
import Logging

/// `apk-bench subscribe NAMESPACE API-NAME VERSION COUNT CLIENT`: subscribes one application to an API, with `COUNT`
/// production clients of its own plus `CLIENT` (the one the benchmark's tokens carry), so that the API's
/// subscription stage holds a `COUNT + 1`-entry allow-list (`./build-apk.sh bench auth`).
struct SubscribeCommand {
    var databaseURL: String
    var namespace: String
    var apiName: String
    var version: String
    var count: Int
    var client: String

    func run() async throws {
        var logger = Logger(label: "apk.bench.subscribe")
        logger.logLevel = .error
        let store = PostgresStore(configuration: try PostgresStore.Configuration(url: databaseURL), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.makeService(migrate: false).run() }
            defer { group.cancelAll() }
            let clients = (0..<count).map { "bench-client-\($0)" } + [client]
            let environments = clients.map { id -> JSONValue in
                .object(JSONObject([("envId", "Default"), ("appId", .string(id)), ("keyType", "PRODUCTION")]))
            }
            let resources = [
                Self.resource("Application", "v1alpha2", "bench-app", JSONObject([
                    ("name", "bench"), ("owner", "bench"), ("organization", "default"),
                    ("securitySchemes", .object(JSONObject([
                        ("oauth2", .object(JSONObject([("environments", .array(environments))]))),
                    ]))),
                ])),
                Self.resource("Subscription", "v1alpha3", "bench-subscription", JSONObject([
                    ("subscriptionStatus", "ACTIVE"), ("organization", "default"),
                    ("api", .object(JSONObject([("name", .string(apiName)), ("version", .string(version))]))),
                ])),
                Self.resource("ApplicationMapping", "v1alpha2", "bench-mapping", JSONObject([
                    ("applicationRef", "bench-app"), ("subscriptionRef", "bench-subscription"),
                ])),
            ]
            for resource in resources { _ = try await store.resources.applyResource(resource, namespace: namespace) }
        }
        print("subscribed \(count + 1) clients to \(apiName) \(version)")
    }

    static func resource(_ kind: String, _ version: String, _ name: String, _ spec: JSONObject) -> K8sResource {
        K8sResource(
            apiVersion: "cp.wso2.com/\(version)", kind: kind, metadata: ObjectMeta(name: name),
            body: JSONObject([("spec", .object(spec))]))
    }
}
