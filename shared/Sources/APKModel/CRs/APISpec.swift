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

    package init(
        apiName: String,
        apiVersion: String,
        apiType: String,
        basePath: String,
        isDefaultVersion: Bool,
        organization: String,
        definitionPath: String,
        environment: String? = nil,
        definitionFileRef: String? = nil,
        production: [RouteRefs]? = nil,
        sandbox: [RouteRefs]? = nil,
        apiProperties: [Property]? = nil,
        systemAPI: Bool? = nil
    ) {
        self.apiName = apiName
        self.apiVersion = apiVersion
        self.apiType = apiType
        self.basePath = basePath
        self.isDefaultVersion = isDefaultVersion
        self.organization = organization
        self.definitionPath = definitionPath
        self.environment = environment
        self.definitionFileRef = definitionFileRef
        self.production = production
        self.sandbox = sandbox
        self.apiProperties = apiProperties
        self.systemAPI = systemAPI
    }

    package struct RouteRefs: Sendable, Hashable, Codable {
        package var routeRefs: [String]

        package init(routeRefs: [String]) {
            self.routeRefs = routeRefs
        }
    }

    package struct Property: Sendable, Hashable, Codable {
        package var name: String
        package var value: String

        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }
}

/// `Scope` (dp.wso2.com/v1alpha1) spec.
package struct ScopeSpec: Sendable, Hashable, Codable {
    package var names: [String]

    package init(names: [String]) {
        self.names = names
    }
}

/// `RateLimitPolicy` (dp.wso2.com/v1alpha1) spec (API / resource level).
package struct RateLimitPolicySpec: Sendable, Hashable, Codable {
    package var `default`: Limits
    package var targetRef: TargetRef

    package init(`default`: Limits, targetRef: TargetRef) {
        self.default = `default`
        self.targetRef = targetRef
    }

    package struct Limits: Sendable, Hashable, Codable {
        package var api: Limit

        package init(api: Limit) {
            self.api = api
        }
    }

    package struct Limit: Sendable, Hashable, Codable {
        package var requestsPerUnit: Int
        package var unit: String

        package init(requestsPerUnit: Int, unit: String) {
            self.requestsPerUnit = requestsPerUnit
            self.unit = unit
        }
    }
}

/// `BackendJWT` (dp.wso2.com/v1alpha1) spec.
package struct BackendJWTSpec: Sendable, Hashable, Codable {
    package var encoding: String
    package var signingAlgorithm: String
    package var header: String
    package var tokenTTL: Int
    package var customClaims: [Claim]?

    package init(
        encoding: String,
        signingAlgorithm: String,
        header: String,
        tokenTTL: Int,
        customClaims: [Claim]? = nil
    ) {
        self.encoding = encoding
        self.signingAlgorithm = signingAlgorithm
        self.header = header
        self.tokenTTL = tokenTTL
        self.customClaims = customClaims
    }

    package struct Claim: Sendable, Hashable, Codable {
        package var claim: String
        package var value: String
        package var type: String

        package init(claim: String, value: String, type: String) {
            self.claim = claim
            self.value = value
            self.type = type
        }
    }
}

/// `InterceptorService` (dp.wso2.com/v1alpha1) spec.
package struct InterceptorServiceSpec: Sendable, Hashable, Codable {
    package var backendRef: NameRef
    package var includes: [String]?

    package init(backendRef: NameRef, includes: [String]? = nil) {
        self.backendRef = backendRef
        self.includes = includes
    }
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

    package init(
        name: String,
        organization: String,
        issuer: String,
        consumerKeyClaim: String? = nil,
        scopesClaim: String? = nil,
        signatureValidation: SignatureValidation,
        claimMappings: [ClaimMapping]? = nil,
        targetRef: TargetRef? = nil,
        environments: [String]? = nil
    ) {
        self.name = name
        self.organization = organization
        self.issuer = issuer
        self.consumerKeyClaim = consumerKeyClaim
        self.scopesClaim = scopesClaim
        self.signatureValidation = signatureValidation
        self.claimMappings = claimMappings
        self.targetRef = targetRef
        self.environments = environments
    }

    package struct SignatureValidation: Sendable, Hashable, Codable {
        package var jwks: JWKS?
        package var certificate: Certificate?

        package init(jwks: JWKS? = nil, certificate: Certificate? = nil) {
            self.jwks = jwks
            self.certificate = certificate
        }
    }

    package struct JWKS: Sendable, Hashable, Codable {
        package var url: String
        package var tls: Certificate?

        package init(url: String, tls: Certificate? = nil) {
            self.url = url
            self.tls = tls
        }
    }

    package struct Certificate: Sendable, Hashable, Codable {
        package var certificateInline: String?
        package var secretRef: KeyRef?
        package var configMapRef: KeyRef?

        package init(certificateInline: String? = nil, secretRef: KeyRef? = nil, configMapRef: KeyRef? = nil) {
            self.certificateInline = certificateInline
            self.secretRef = secretRef
            self.configMapRef = configMapRef
        }
    }

    package struct ClaimMapping: Sendable, Hashable, Codable {
        package var remoteClaim: String
        package var localClaim: String

        package init(remoteClaim: String, localClaim: String) {
            self.remoteClaim = remoteClaim
            self.localClaim = localClaim
        }
    }
}

/// `AIRateLimitPolicy` (dp.wso2.com/v1alpha3) spec.
package struct AIRateLimitPolicySpec: Sendable, Hashable, Codable {
    package var `default`: Limits
    package var targetRef: TargetRef

    package init(`default`: Limits, targetRef: TargetRef) {
        self.default = `default`
        self.targetRef = targetRef
    }

    package struct Limits: Sendable, Hashable, Codable {
        package var organization: String
        package var tokenCount: TokenCount
        package var requestCount: RequestCount

        package init(organization: String, tokenCount: TokenCount, requestCount: RequestCount) {
            self.organization = organization
            self.tokenCount = tokenCount
            self.requestCount = requestCount
        }
    }

    package struct TokenCount: Sendable, Hashable, Codable {
        package var unit: String
        package var requestTokenCount: Int
        package var responseTokenCount: Int
        package var totalTokenCount: Int

        package init(unit: String, requestTokenCount: Int, responseTokenCount: Int, totalTokenCount: Int) {
            self.unit = unit
            self.requestTokenCount = requestTokenCount
            self.responseTokenCount = responseTokenCount
            self.totalTokenCount = totalTokenCount
        }
    }

    package struct RequestCount: Sendable, Hashable, Codable {
        package var requestsPerUnit: Int
        package var unit: String

        package init(requestsPerUnit: Int, unit: String) {
            self.requestsPerUnit = requestsPerUnit
            self.unit = unit
        }
    }
}
