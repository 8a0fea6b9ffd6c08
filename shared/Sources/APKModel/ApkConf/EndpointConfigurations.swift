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
    }

    package struct EndpointSecurity: Sendable, Hashable, Codable {
        package var enabled: Bool?
        package var securityType: SecurityType?
    }

    /// Basic (`userNameKey`/`passwordKey`) or API key (`in`/`apiKeyNameKey`/`apiKeyValueKey`) credentials in a Secret.
    package struct SecurityType: Sendable, Hashable, Codable {
        package var secretName: String
        package var userNameKey: String?
        package var passwordKey: String?
        package var `in`: String?
        package var apiKeyNameKey: String?
        package var apiKeyValueKey: String?
    }

    package struct Certificate: Sendable, Hashable, Codable {
        package var secretName: String
        package var secretKey: String
    }

    package struct Resiliency: Sendable, Hashable, Codable {
        package var timeout: Timeout?
        package var retryPolicy: RetryPolicy?
        package var circuitBreaker: CircuitBreaker?

        package struct Timeout: Sendable, Hashable, Codable {
            package var downstreamRequestIdleTimeout: Int?
            package var upstreamResponseTimeout: Int?
        }

        package struct RetryPolicy: Sendable, Hashable, Codable {
            package var count: Int?
            package var baseIntervalMillis: Int?
            package var statusCodes: [Int]?
        }

        package struct CircuitBreaker: Sendable, Hashable, Codable {
            package var maxConnectionPools: Int?
            package var maxConnections: Int?
            package var maxPendingRequests: Int?
            package var maxRequests: Int?
            package var maxRetries: Int?
        }
    }

    package struct AIRatelimit: Sendable, Hashable, Codable {
        package var enabled: Bool?
        package var token: Token
        package var request: Request

        package struct Token: Sendable, Hashable, Codable {
            package var promptLimit: Int
            package var completionLimit: Int
            package var totalLimit: Int
            package var unit: String
        }

        package struct Request: Sendable, Hashable, Codable {
            package var requestLimit: Int
            package var unit: String
        }
    }
}
