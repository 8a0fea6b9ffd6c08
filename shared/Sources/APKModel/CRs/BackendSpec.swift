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

    package init(
        services: [Service],
        `protocol`: String,
        basePath: String? = nil,
        tls: TLS? = nil,
        security: Security? = nil,
        circuitBreaker: CircuitBreaker? = nil,
        timeout: Timeout? = nil,
        retry: Retry? = nil,
        healthCheck: HealthCheck? = nil
    ) {
        self.services = services
        self.protocol = `protocol`
        self.basePath = basePath
        self.tls = tls
        self.security = security
        self.circuitBreaker = circuitBreaker
        self.timeout = timeout
        self.retry = retry
        self.healthCheck = healthCheck
    }

    package struct Service: Sendable, Hashable, Codable {
        package var host: String
        package var port: Int

        package init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    package struct TLS: Sendable, Hashable, Codable {
        package var certificateInline: String?
        package var secretRef: KeyRef?
        package var configMapRef: KeyRef?
        package var allowedSANs: [String]?

        package init(
            certificateInline: String? = nil,
            secretRef: KeyRef? = nil,
            configMapRef: KeyRef? = nil,
            allowedSANs: [String]? = nil
        ) {
            self.certificateInline = certificateInline
            self.secretRef = secretRef
            self.configMapRef = configMapRef
            self.allowedSANs = allowedSANs
        }
    }

    package struct Security: Sendable, Hashable, Codable {
        package var basic: Basic?
        package var apiKey: APIKey?

        package init(basic: Basic? = nil, apiKey: APIKey? = nil) {
            self.basic = basic
            self.apiKey = apiKey
        }

        package struct Basic: Sendable, Hashable, Codable {
            package var secretRef: SecretRef

            package init(secretRef: SecretRef) {
                self.secretRef = secretRef
            }
        }

        package struct SecretRef: Sendable, Hashable, Codable {
            package var name: String
            package var usernameKey: String
            package var passwordKey: String

            package init(name: String, usernameKey: String, passwordKey: String) {
                self.name = name
                self.usernameKey = usernameKey
                self.passwordKey = passwordKey
            }
        }

        package struct APIKey: Sendable, Hashable, Codable {
            package var `in`: String
            package var name: String
            package var valueFrom: ValueFrom

            package init(`in`: String, name: String, valueFrom: ValueFrom) {
                self.in = `in`
                self.name = name
                self.valueFrom = valueFrom
            }
        }

        package struct ValueFrom: Sendable, Hashable, Codable {
            package var name: String
            package var valueKey: String

            package init(name: String, valueKey: String) {
                self.name = name
                self.valueKey = valueKey
            }
        }
    }

    package struct CircuitBreaker: Sendable, Hashable, Codable {
        package var maxConnectionPools: Int?
        package var maxConnections: Int
        package var maxPendingRequests: Int
        package var maxRequests: Int
        package var maxRetries: Int

        package init(
            maxConnectionPools: Int? = nil,
            maxConnections: Int,
            maxPendingRequests: Int,
            maxRequests: Int,
            maxRetries: Int
        ) {
            self.maxConnectionPools = maxConnectionPools
            self.maxConnections = maxConnections
            self.maxPendingRequests = maxPendingRequests
            self.maxRequests = maxRequests
            self.maxRetries = maxRetries
        }
    }

    package struct Timeout: Sendable, Hashable, Codable {
        package var upstreamResponseTimeout: Int
        package var downstreamRequestIdleTimeout: Int

        package init(upstreamResponseTimeout: Int, downstreamRequestIdleTimeout: Int) {
            self.upstreamResponseTimeout = upstreamResponseTimeout
            self.downstreamRequestIdleTimeout = downstreamRequestIdleTimeout
        }
    }

    package struct Retry: Sendable, Hashable, Codable {
        package var count: Int
        package var baseIntervalMillis: Int
        package var statusCodes: [Int]

        package init(count: Int, baseIntervalMillis: Int, statusCodes: [Int]) {
            self.count = count
            self.baseIntervalMillis = baseIntervalMillis
            self.statusCodes = statusCodes
        }
    }

    package struct HealthCheck: Sendable, Hashable, Codable {
        package var timeout: Int
        package var interval: Int
        package var unhealthyThreshold: Int
        package var healthyThreshold: Int

        package init(timeout: Int, interval: Int, unhealthyThreshold: Int, healthyThreshold: Int) {
            self.timeout = timeout
            self.interval = interval
            self.unhealthyThreshold = unhealthyThreshold
            self.healthyThreshold = healthyThreshold
        }
    }
}
