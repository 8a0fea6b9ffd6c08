package import APKModel

/// What a valid apk-conf may ask for that the gateway does not serve yet (issue 13 item 5: say no instead of
/// dropping silently). Deploy refuses such an apk-conf with 406 909066 listing every feature and where it is;
/// `generate-k8s-resources` does not check (its resources are for a Kubernetes cluster, as the reference's).
///
/// Keep this list in step with the adapter: an entry leaves when the adapter serves the feature.
package enum GatewaySupport {
    package static func unsupported(_ conf: ApkConf) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        if conf.basePath.contains("{") || conf.basePath.contains("}") {
            issues.append(.init(pointer: "#/basePath", message: "a base path with { or } is not routable"))
        }
        if conf.aiProvider != nil {
            issues.append(.init(pointer: "#/aiProvider", message: "AI provider APIs are not served yet"))
        }
        endpoints(conf.endpointConfigurations, at: "#/endpointConfigurations", into: &issues)
        policies(conf.apiPolicies, at: "#/apiPolicies", into: &issues)
        for (index, auth) in (conf.authentication ?? []).enumerated()
        where auth.authType == .mtls && auth.enabled && (auth.required ?? "optional").lowercased() == "mandatory" {
            issues.append(.init(
                pointer: "#/authentication/\(index)",
                message: "mandatory mutual TLS is not enforced by the gateway yet"))
        }
        for (index, operation) in conf.operations.enumerated() {
            endpoints(operation.endpointConfigurations, at: "#/operations/\(index)/endpointConfigurations", into: &issues)
            policies(operation.operationPolicies, at: "#/operations/\(index)/operationPolicies", into: &issues)
        }
        return issues
    }

    private static func endpoints(_ configurations: EndpointConfigurations?, at pointer: String, into issues: inout [ValidationIssue]) {
        for environment in DeploymentEnvironment.allCases {
            let list = configurations?.endpoints(for: environment) ?? []
            if list.count > 1 {
                issues.append(.init(
                    pointer: "\(pointer)/\(environment.rawValue)",
                    message: "\(list.count) weighted \(environment.rawValue) endpoints: only one endpoint per environment is served yet"))
            }
            for (index, endpoint) in list.enumerated() where endpoint.aiRatelimit.map({ $0.enabled ?? true }) == true {
                issues.append(.init(
                    pointer: "\(pointer)/\(environment.rawValue)/\(index)/aiRatelimit",
                    message: "AI token rate limits are not enforced yet"))
            }
        }
    }

    private static func policies(_ policies: Policies?, at pointer: String, into issues: inout [ValidationIssue]) {
        for (direction, list) in [("request", policies?.request ?? []), ("response", policies?.response ?? [])] {
            for (index, policy) in list.enumerated() {
                let message: String? = switch policy.policyName {
                case .interceptor: "Interceptor policies are not applied yet"
                case .modelBasedRoundRobin: "ModelBasedRoundRobin policies are not applied yet"
                case .addHeader, .setHeader, .removeHeader, .backendJwt, .requestMirror, .requestRedirect: nil
                }
                if let message { issues.append(.init(pointer: "\(pointer)/\(direction)/\(index)", message: message)) }
            }
        }
    }
}
