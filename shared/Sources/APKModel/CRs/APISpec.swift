/// `API` (dp.wso2.com/v1alpha3) spec.
package struct APISpec: Sendable, Hashable, Codable {
    package var apiName: String
    package var apiVersion: String
    package var apiType: String
    package var basePath: String
    package var isDefaultVersion: Bool
    package var organization: String
    package var definitionPath: String
    package var environment: String?
    package var definitionFileRef: String?
    package var production: [RouteRefs]?
    package var sandbox: [RouteRefs]?
    package var apiProperties: [Property]?
    package var systemAPI: Bool?

    package struct RouteRefs: Sendable, Hashable, Codable {
        package var routeRefs: [String]
    }

    package struct Property: Sendable, Hashable, Codable {
        package var name: String
        package var value: String
    }
}

/// `Scope` (dp.wso2.com/v1alpha1) spec.
package struct ScopeSpec: Sendable, Hashable, Codable {
    package var names: [String]
}

/// `RateLimitPolicy` (dp.wso2.com/v1alpha1) spec (API / resource level).
package struct RateLimitPolicySpec: Sendable, Hashable, Codable {
    package var `default`: Limits
    package var targetRef: TargetRef

    package struct Limits: Sendable, Hashable, Codable {
        package var api: Limit
    }

    package struct Limit: Sendable, Hashable, Codable {
        package var requestsPerUnit: Int
        package var unit: String
    }
}

/// `BackendJWT` (dp.wso2.com/v1alpha1) spec.
package struct BackendJWTSpec: Sendable, Hashable, Codable {
    package var encoding: String
    package var signingAlgorithm: String
    package var header: String
    package var tokenTTL: Int
    package var customClaims: [Claim]?

    package struct Claim: Sendable, Hashable, Codable {
        package var claim: String
        package var value: String
        package var type: String
    }
}

/// `InterceptorService` (dp.wso2.com/v1alpha1) spec.
package struct InterceptorServiceSpec: Sendable, Hashable, Codable {
    package var backendRef: NameRef
    package var includes: [String]?
}

/// `TokenIssuer` (dp.wso2.com/v1alpha2) spec.
package struct TokenIssuerSpec: Sendable, Hashable, Codable {
    package var name: String
    package var organization: String
    package var issuer: String
    package var consumerKeyClaim: String?
    package var scopesClaim: String?
    package var signatureValidation: SignatureValidation
    package var claimMappings: [ClaimMapping]?
    package var targetRef: TargetRef?
    package var environments: [String]?

    package struct SignatureValidation: Sendable, Hashable, Codable {
        package var jwks: JWKS?
        package var certificate: Certificate?
    }

    package struct JWKS: Sendable, Hashable, Codable {
        package var url: String
        package var tls: Certificate?
    }

    package struct Certificate: Sendable, Hashable, Codable {
        package var certificateInline: String?
        package var secretRef: KeyRef?
        package var configMapRef: KeyRef?
    }

    package struct ClaimMapping: Sendable, Hashable, Codable {
        package var remoteClaim: String
        package var localClaim: String
    }
}

/// `AIRateLimitPolicy` (dp.wso2.com/v1alpha3) spec.
package struct AIRateLimitPolicySpec: Sendable, Hashable, Codable {
    package var `default`: Limits
    package var targetRef: TargetRef

    package struct Limits: Sendable, Hashable, Codable {
        package var organization: String
        package var tokenCount: TokenCount
        package var requestCount: RequestCount
    }

    package struct TokenCount: Sendable, Hashable, Codable {
        package var unit: String
        package var requestTokenCount: Int
        package var responseTokenCount: Int
        package var totalTokenCount: Int
    }

    package struct RequestCount: Sendable, Hashable, Codable {
        package var requestsPerUnit: Int
        package var unit: String
    }
}
