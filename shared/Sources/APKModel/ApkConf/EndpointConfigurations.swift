/// Production and sandbox endpoints of an API or operation (contract §4.3).
package struct EndpointConfigurations: Sendable, Hashable, Codable {
    package var production: [EndpointConfiguration]?
    package var sandbox: [EndpointConfiguration]?

    package init(production: [EndpointConfiguration]? = nil, sandbox: [EndpointConfiguration]? = nil) {
        self.production = production
        self.sandbox = sandbox
    }

    /// The endpoints of one environment (empty when none).
    package func endpoints(for environment: DeploymentEnvironment) -> [EndpointConfiguration] {
        switch environment {
        case .production: production ?? []
        case .sandbox: sandbox ?? []
        }
    }
}

/// Production or sandbox: the two gateway environments of an API.
package enum DeploymentEnvironment: String, Sendable, Hashable, CaseIterable, Codable {
    case production, sandbox
}

package struct EndpointConfiguration: Sendable, Hashable, Codable {
    package var endpoint: Endpoint
    package var endpointSecurity: EndpointSecurity?
    package var certificate: Certificate?
    package var resiliency: Resiliency?
    package var aiRatelimit: AIRatelimit?
    package var weight: Int?

    package init(endpoint: Endpoint) { self.endpoint = endpoint }

    /// A URL, or a Kubernetes Service reference.
    package enum Endpoint: Sendable, Hashable, Codable {
        case url(String)
        case service(K8sService)

        package init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let url = try? container.decode(String.self) {
                self = .url(url)
            } else {
                self = .service(try container.decode(K8sService.self))
            }
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .url(let url): try container.encode(url)
            case .service(let service): try container.encode(service)
            }
        }
    }

    package struct K8sService: Sendable, Hashable, Codable {
        package var name: String
        package var namespace: String?
        package var port: Int
        package var `protocol`: String?

        package init(name: String, namespace: String? = nil, port: Int, `protocol`: String? = nil) {
            self.name = name
            self.namespace = namespace
            self.port = port
            self.protocol = `protocol`
        }
    }

    package struct EndpointSecurity: Sendable, Hashable, Codable {
        package var enabled: Bool?
        package var securityType: SecurityType?

        package init(enabled: Bool? = nil, securityType: SecurityType? = nil) {
            self.enabled = enabled
            self.securityType = securityType
        }
    }

    /// Basic (`userNameKey`/`passwordKey`) or API key (`in`/`apiKeyNameKey`/`apiKeyValueKey`) credentials in a Secret.
    package struct SecurityType: Sendable, Hashable, Codable {
        package var secretName: String
        package var userNameKey: String?
        package var passwordKey: String?
        package var `in`: String?
        package var apiKeyNameKey: String?
        package var apiKeyValueKey: String?

        package init(
            secretName: String,
            userNameKey: String? = nil,
            passwordKey: String? = nil,
            `in`: String? = nil,
            apiKeyNameKey: String? = nil,
            apiKeyValueKey: String? = nil
        ) {
            self.secretName = secretName
            self.userNameKey = userNameKey
            self.passwordKey = passwordKey
            self.in = `in`
            self.apiKeyNameKey = apiKeyNameKey
            self.apiKeyValueKey = apiKeyValueKey
        }
    }

    package struct Certificate: Sendable, Hashable, Codable {
        package var secretName: String
        package var secretKey: String

        package init(secretName: String, secretKey: String) {
            self.secretName = secretName
            self.secretKey = secretKey
        }
    }

    package struct Resiliency: Sendable, Hashable, Codable {
        package var timeout: Timeout?
        package var retryPolicy: RetryPolicy?
        package var circuitBreaker: CircuitBreaker?

        package init(timeout: Timeout? = nil, retryPolicy: RetryPolicy? = nil, circuitBreaker: CircuitBreaker? = nil) {
            self.timeout = timeout
            self.retryPolicy = retryPolicy
            self.circuitBreaker = circuitBreaker
        }

        package struct Timeout: Sendable, Hashable, Codable {
            package var downstreamRequestIdleTimeout: Int?
            package var upstreamResponseTimeout: Int?

            package init(downstreamRequestIdleTimeout: Int? = nil, upstreamResponseTimeout: Int? = nil) {
                self.downstreamRequestIdleTimeout = downstreamRequestIdleTimeout
                self.upstreamResponseTimeout = upstreamResponseTimeout
            }
        }

        package struct RetryPolicy: Sendable, Hashable, Codable {
            package var count: Int?
            package var baseIntervalMillis: Int?
            package var statusCodes: [Int]?

            package init(count: Int? = nil, baseIntervalMillis: Int? = nil, statusCodes: [Int]? = nil) {
                self.count = count
                self.baseIntervalMillis = baseIntervalMillis
                self.statusCodes = statusCodes
            }
        }

        package struct CircuitBreaker: Sendable, Hashable, Codable {
            package var maxConnectionPools: Int?
            package var maxConnections: Int?
            package var maxPendingRequests: Int?
            package var maxRequests: Int?
            package var maxRetries: Int?

            package init(
                maxConnectionPools: Int? = nil,
                maxConnections: Int? = nil,
                maxPendingRequests: Int? = nil,
                maxRequests: Int? = nil,
                maxRetries: Int? = nil
            ) {
                self.maxConnectionPools = maxConnectionPools
                self.maxConnections = maxConnections
                self.maxPendingRequests = maxPendingRequests
                self.maxRequests = maxRequests
                self.maxRetries = maxRetries
            }
        }
    }

    package struct AIRatelimit: Sendable, Hashable, Codable {
        package var enabled: Bool?
        package var token: Token
        package var request: Request

        package init(enabled: Bool? = nil, token: Token, request: Request) {
            self.enabled = enabled
            self.token = token
            self.request = request
        }

        package struct Token: Sendable, Hashable, Codable {
            package var promptLimit: Int
            package var completionLimit: Int
            package var totalLimit: Int
            package var unit: String

            package init(promptLimit: Int, completionLimit: Int, totalLimit: Int, unit: String) {
                self.promptLimit = promptLimit
                self.completionLimit = completionLimit
                self.totalLimit = totalLimit
                self.unit = unit
            }
        }

        package struct Request: Sendable, Hashable, Codable {
            package var requestLimit: Int
            package var unit: String

            package init(requestLimit: Int, unit: String) {
                self.requestLimit = requestLimit
                self.unit = unit
            }
        }
    }
}
