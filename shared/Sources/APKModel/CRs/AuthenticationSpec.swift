/// `Authentication` (dp.wso2.com/v1alpha2) spec.
package struct AuthenticationSpec: Sendable, Hashable, Codable {
    package var `default`: Details?
    package var override: Details?
    package var targetRef: TargetRef

    package init(`default`: Details? = nil, override: Details? = nil, targetRef: TargetRef) {
        self.default = `default`
        self.override = override
        self.targetRef = targetRef
    }

    package struct Details: Sendable, Hashable, Codable {
        package var disabled: Bool?
        package var authTypes: AuthTypes?

        package init(disabled: Bool? = nil, authTypes: AuthTypes? = nil) {
            self.disabled = disabled
            self.authTypes = authTypes
        }
    }

    package struct AuthTypes: Sendable, Hashable, Codable {
        package var oauth2: OAuth2?
        package var jwt: JWT?
        package var apiKey: APIKey?
        package var mtls: MTLS?

        package init(oauth2: OAuth2? = nil, jwt: JWT? = nil, apiKey: APIKey? = nil, mtls: MTLS? = nil) {
            self.oauth2 = oauth2
            self.jwt = jwt
            self.apiKey = apiKey
            self.mtls = mtls
        }
    }

    package struct OAuth2: Sendable, Hashable, Codable {
        package var header: String
        package var sendTokenToUpstream: Bool
        package var disabled: Bool
        package var required: String

        package init(header: String, sendTokenToUpstream: Bool, disabled: Bool, required: String) {
            self.header = header
            self.sendTokenToUpstream = sendTokenToUpstream
            self.disabled = disabled
            self.required = required
        }
    }

    package struct JWT: Sendable, Hashable, Codable {
        package var header: String
        package var sendTokenToUpstream: Bool
        package var disabled: Bool
        package var audience: [String]

        package init(header: String, sendTokenToUpstream: Bool, disabled: Bool, audience: [String]) {
            self.header = header
            self.sendTokenToUpstream = sendTokenToUpstream
            self.disabled = disabled
            self.audience = audience
        }
    }

    package struct APIKey: Sendable, Hashable, Codable {
        package var required: String
        package var keys: [Key]

        package init(required: String, keys: [Key]) {
            self.required = required
            self.keys = keys
        }

        package struct Key: Sendable, Hashable, Codable {
            package var `in`: String
            package var name: String
            package var sendTokenToUpstream: Bool

            package init(`in`: String, name: String, sendTokenToUpstream: Bool) {
                self.in = `in`
                self.name = name
                self.sendTokenToUpstream = sendTokenToUpstream
            }
        }
    }

    package struct MTLS: Sendable, Hashable, Codable {
        package var disabled: Bool
        package var required: String
        package var configMapRefs: [KeyRef]?

        package init(disabled: Bool, required: String, configMapRefs: [KeyRef]? = nil) {
            self.disabled = disabled
            self.required = required
            self.configMapRefs = configMapRefs
        }
    }
}

/// `APIPolicy` (dp.wso2.com/v1alpha4) spec.
package struct APIPolicySpec: Sendable, Hashable, Codable {
    package var `default`: Details
    package var targetRef: TargetRef

    package init(`default`: Details, targetRef: TargetRef) {
        self.default = `default`
        self.targetRef = targetRef
    }

    package struct Details: Sendable, Hashable, Codable {
        package var requestInterceptors: [NameRef]?
        package var responseInterceptors: [NameRef]?
        package var backendJwtPolicy: NameRef?
        package var cORSPolicy: CORSPolicy?
        package var subscriptionValidation: Bool?
        package var aiProvider: NameRef?
        package var modelBasedRoundRobin: ModelBasedRoundRobin?

        package init(
            requestInterceptors: [NameRef]? = nil,
            responseInterceptors: [NameRef]? = nil,
            backendJwtPolicy: NameRef? = nil,
            cORSPolicy: CORSPolicy? = nil,
            subscriptionValidation: Bool? = nil,
            aiProvider: NameRef? = nil,
            modelBasedRoundRobin: ModelBasedRoundRobin? = nil
        ) {
            self.requestInterceptors = requestInterceptors
            self.responseInterceptors = responseInterceptors
            self.backendJwtPolicy = backendJwtPolicy
            self.cORSPolicy = cORSPolicy
            self.subscriptionValidation = subscriptionValidation
            self.aiProvider = aiProvider
            self.modelBasedRoundRobin = modelBasedRoundRobin
        }
    }

    package struct CORSPolicy: Sendable, Hashable, Codable {
        package var enabled: Bool
        package var accessControlAllowCredentials: Bool?
        package var accessControlAllowHeaders: [String]?
        package var accessControlAllowMethods: [String]?
        package var accessControlAllowOrigins: [String]?
        package var accessControlExposeHeaders: [String]?
        package var accessControlMaxAge: Int?

        package init(
            enabled: Bool,
            accessControlAllowCredentials: Bool? = nil,
            accessControlAllowHeaders: [String]? = nil,
            accessControlAllowMethods: [String]? = nil,
            accessControlAllowOrigins: [String]? = nil,
            accessControlExposeHeaders: [String]? = nil,
            accessControlMaxAge: Int? = nil
        ) {
            self.enabled = enabled
            self.accessControlAllowCredentials = accessControlAllowCredentials
            self.accessControlAllowHeaders = accessControlAllowHeaders
            self.accessControlAllowMethods = accessControlAllowMethods
            self.accessControlAllowOrigins = accessControlAllowOrigins
            self.accessControlExposeHeaders = accessControlExposeHeaders
            self.accessControlMaxAge = accessControlMaxAge
        }
    }

    package struct ModelBasedRoundRobin: Sendable, Hashable, Codable {
        package var onQuotaExceedSuspendDuration: Int
        package var productionModels: [Model]
        package var sandboxModels: [Model]?

        package init(onQuotaExceedSuspendDuration: Int, productionModels: [Model], sandboxModels: [Model]? = nil) {
            self.onQuotaExceedSuspendDuration = onQuotaExceedSuspendDuration
            self.productionModels = productionModels
            self.sandboxModels = sandboxModels
        }

        package struct Model: Sendable, Hashable, Codable {
            package var model: String
            package var backendRef: NameRef
            package var weight: Int?

            package init(model: String, backendRef: NameRef, weight: Int? = nil) {
                self.model = model
                self.backendRef = backendRef
                self.weight = weight
            }
        }
    }
}
