/// `Backend` (dp.wso2.com/v1alpha2) spec: one upstream service and how to reach it.
package struct BackendSpec: Sendable, Hashable, Codable {
    package var services: [Service]
    package var `protocol`: String
    package var basePath: String?
    package var tls: TLS?
    package var security: Security?
    package var circuitBreaker: CircuitBreaker?
    package var timeout: Timeout?
    package var retry: Retry?
    package var healthCheck: HealthCheck?

    package struct Service: Sendable, Hashable, Codable {
        package var host: String
        package var port: Int
    }

    package struct TLS: Sendable, Hashable, Codable {
        package var certificateInline: String?
        package var secretRef: KeyRef?
        package var configMapRef: KeyRef?
        package var allowedSANs: [String]?
    }

    package struct Security: Sendable, Hashable, Codable {
        package var basic: Basic?
        package var apiKey: APIKey?

        package struct Basic: Sendable, Hashable, Codable {
            package var secretRef: SecretRef
        }

        package struct SecretRef: Sendable, Hashable, Codable {
            package var name: String
            package var usernameKey: String
            package var passwordKey: String
        }

        package struct APIKey: Sendable, Hashable, Codable {
            package var `in`: String
            package var name: String
            package var valueFrom: ValueFrom
        }

        package struct ValueFrom: Sendable, Hashable, Codable {
            package var name: String
            package var valueKey: String
        }
    }

    package struct CircuitBreaker: Sendable, Hashable, Codable {
        package var maxConnectionPools: Int?
        package var maxConnections: Int
        package var maxPendingRequests: Int
        package var maxRequests: Int
        package var maxRetries: Int
    }

    package struct Timeout: Sendable, Hashable, Codable {
        package var upstreamResponseTimeout: Int
        package var downstreamRequestIdleTimeout: Int
    }

    package struct Retry: Sendable, Hashable, Codable {
        package var count: Int
        package var baseIntervalMillis: Int
        package var statusCodes: [Int]
    }

    package struct HealthCheck: Sendable, Hashable, Codable {
        package var timeout: Int
        package var interval: Int
        package var unhealthyThreshold: Int
        package var healthyThreshold: Int
    }
}
