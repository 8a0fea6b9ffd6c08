/// The resource kinds APK writes and reads, with the API version each is written as (contract §3.2, §6).
package enum CRKind: String, Sendable, Hashable, CaseIterable, Codable {
    case api = "API"
    case authentication = "Authentication"
    case backend = "Backend"
    case apiPolicy = "APIPolicy"
    case rateLimitPolicy = "RateLimitPolicy"
    case scope = "Scope"
    case backendJWT = "BackendJWT"
    case interceptorService = "InterceptorService"
    case tokenIssuer = "TokenIssuer"
    case aiRateLimitPolicy = "AIRateLimitPolicy"
    case httpRoute = "HTTPRoute"
    case grpcRoute = "GRPCRoute"
    case gateway = "Gateway"
    case gatewayClass = "GatewayClass"
    case configMap = "ConfigMap"
    /// Control-plane kinds (cp.wso2.com): who may call APIs with subscription validation (contract §7.5).
    case application = "Application"
    case subscription = "Subscription"
    case applicationMapping = "ApplicationMapping"

    package static let apkGroup = "dp.wso2.com"
    package static let gatewayGroup = "gateway.networking.k8s.io"

    /// `apiVersion` written for this kind.
    package var apiVersion: String {
        switch self {
        case .api, .aiRateLimitPolicy: "dp.wso2.com/v1alpha3"
        case .authentication, .backend, .tokenIssuer: "dp.wso2.com/v1alpha2"
        case .apiPolicy: "dp.wso2.com/v1alpha4"
        case .rateLimitPolicy, .scope, .backendJWT, .interceptorService: "dp.wso2.com/v1alpha1"
        case .httpRoute: "gateway.networking.k8s.io/v1beta1"
        case .grpcRoute, .gateway, .gatewayClass: "gateway.networking.k8s.io/v1"
        case .configMap: "v1"
        case .application, .applicationMapping: "cp.wso2.com/v1alpha2"
        case .subscription: "cp.wso2.com/v1alpha3"
        }
    }

    /// The group part of ``apiVersion`` (empty for core kinds).
    package var group: String {
        let parts = apiVersion.split(separator: "/")
        return parts.count == 2 ? String(parts[0]) : ""
    }
}

/// `targetRef` of APK policies: what a policy applies to.
package struct TargetRef: Sendable, Hashable, Codable {
    package var group: String
    package var kind: String
    package var name: String

    package init(group: String, kind: String, name: String) {
        self.group = group
        self.kind = kind
        self.name = name
    }

    /// The API CR itself (group `gateway.networking.k8s.io`, as the reference writes it).
    package static func api(_ name: String) -> TargetRef { TargetRef(group: CRKind.gatewayGroup, kind: "API", name: name) }
    /// Resource-level (operation) attachment; the rule's ExtensionRef says which operations.
    package static func resource(_ name: String, group: String = CRKind.apkGroup) -> TargetRef {
        TargetRef(group: group, kind: "Resource", name: name)
    }
}

/// `{name}` references (interceptors, backend JWT, AI provider).
package struct NameRef: Sendable, Hashable, Codable {
    package var name: String
    package init(_ name: String) { self.name = name }
}

/// `{name, key}` references to ConfigMaps or Secrets.
package struct KeyRef: Sendable, Hashable, Codable {
    package var name: String
    package var key: String

    package init(name: String, key: String) {
        self.name = name
        self.key = key
    }
}
