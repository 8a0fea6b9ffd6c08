/// `Authentication` (dp.wso2.com/v1alpha2) spec.
package struct AuthenticationSpec: Sendable, Hashable, Codable {
    package var `default`: Details?
    package var override: Details?
    package var targetRef: TargetRef

    package struct Details: Sendable, Hashable, Codable {
        package var disabled: Bool?
        package var authTypes: AuthTypes?
    }

    package struct AuthTypes: Sendable, Hashable, Codable {
        package var oauth2: OAuth2?
        package var jwt: JWT?
        package var apiKey: APIKey?
        package var mtls: MTLS?
    }

    package struct OAuth2: Sendable, Hashable, Codable {
        package var header: String
        package var sendTokenToUpstream: Bool
        package var disabled: Bool
        package var required: String
    }

    package struct JWT: Sendable, Hashable, Codable {
        package var header: String
        package var sendTokenToUpstream: Bool
        package var disabled: Bool
        package var audience: [String]
    }

    package struct APIKey: Sendable, Hashable, Codable {
        package var required: String
        package var keys: [Key]

        package struct Key: Sendable, Hashable, Codable {
            package var `in`: String
            package var name: String
            package var sendTokenToUpstream: Bool
        }
    }

    package struct MTLS: Sendable, Hashable, Codable {
        package var disabled: Bool
        package var required: String
        package var configMapRefs: [KeyRef]?
    }
}

/// `APIPolicy` (dp.wso2.com/v1alpha4) spec.
package struct APIPolicySpec: Sendable, Hashable, Codable {
    package var `default`: Details
    package var targetRef: TargetRef

    package struct Details: Sendable, Hashable, Codable {
        package var requestInterceptors: [NameRef]?
        package var responseInterceptors: [NameRef]?
        package var backendJwtPolicy: NameRef?
        package var cORSPolicy: CORSPolicy?
        package var subscriptionValidation: Bool?
        package var aiProvider: NameRef?
        package var modelBasedRoundRobin: ModelBasedRoundRobin?
    }

    package struct CORSPolicy: Sendable, Hashable, Codable {
        package var enabled: Bool
        package var accessControlAllowCredentials: Bool?
        package var accessControlAllowHeaders: [String]?
        package var accessControlAllowMethods: [String]?
        package var accessControlAllowOrigins: [String]?
        package var accessControlExposeHeaders: [String]?
        package var accessControlMaxAge: Int?
    }

    package struct ModelBasedRoundRobin: Sendable, Hashable, Codable {
        package var onQuotaExceedSuspendDuration: Int
        package var productionModels: [Model]
        package var sandboxModels: [Model]?

        package struct Model: Sendable, Hashable, Codable {
            package var model: String
            package var backendRef: NameRef
            package var weight: Int?
        }
    }
}
