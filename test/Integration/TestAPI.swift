import APKTestSupport

/// An apk-conf and its OpenAPI for a throwaway API served by a stack's apk-echo: the one way the integration tests
/// describe the APIs they deploy.
struct TestAPI {
    /// One operation: `extra` is added to its apk-conf entry (e.g. `secured: false`, `scopes: ["a"]`).
    struct Operation {
        var verb: String
        var target: String
        var extra: String = ""
    }

    var name: String
    var operations: [Operation]
    /// Top-level apk-conf text appended as is (e.g. a `corsConfiguration` block).
    var extraConf: String = ""

    /// The apk-conf (version 1.0.0, base path `/<name>`, production endpoint `endpoint`) and its OpenAPI 3.0.
    func files(endpoint: String, sandbox: String? = nil) -> (conf: String, definition: String) {
        let operationLines = operations.map { operation in
            "  - {verb: \(operation.verb), target: \"\(operation.target)\"\(operation.extra.isEmpty ? "" : ", " + operation.extra)}"
        }
        let sandboxLines = sandbox.map { ["  sandbox:", "    - endpoint: \($0)"] } ?? []
        let conf = (["name: \(name)", "basePath: /\(name)", "version: 1.0.0", "type: REST", "endpointConfigurations:",
                     "  production:", "    - endpoint: \(endpoint)"] + sandboxLines + ["operations:"] + operationLines)
            .joined(separator: "\n") + "\n" + extraConf
        var paths: [String: [String]] = [:]
        for operation in operations { paths[operation.target, default: []].append(operation.verb.lowercased()) }
        let pathLines = paths.keys.sorted().map { path in
            let methods = paths[path, default: []].map { "\($0): {responses: {\"200\": {description: ok}}}" }
            return "  \"\(path)\": {\(methods.joined(separator: ", "))}"
        }
        let definition = (["openapi: 3.0.3", "info: {title: \(name), version: 1.0.0}", "paths:"] + pathLines)
            .joined(separator: "\n")
        return (conf, definition)
    }

    /// Deploys it through `stack`'s deployer with `token`; returns the API id.
    func deploy(_ stack: GatewayStack, token: String) async throws -> String {
        let files = files(endpoint: stack.echo.baseURL)
        return try await DeployerFlowTests().deployedID(stack.deployer, token: token, conf: files.conf, definition: files.definition)
    }
}
