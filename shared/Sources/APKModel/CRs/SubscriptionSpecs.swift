/// `Application` (cp.wso2.com/v1alpha2) spec: an API consumer and, per environment and key type, the OAuth2 client
/// (consumer key) that acts for it (contract §6, §7.5).
package struct ApplicationSpec: Sendable, Hashable, Codable {
    package var name: String
    package var owner: String
    package var organization: String
    package var attributes: [String: String]?
    package var securitySchemes: SecuritySchemes?

    package init(
        name: String, owner: String, organization: String, attributes: [String: String]? = nil,
        securitySchemes: SecuritySchemes? = nil
    ) {
        self.name = name
        self.owner = owner
        self.organization = organization
        self.attributes = attributes
        self.securitySchemes = securitySchemes
    }

    package struct SecuritySchemes: Sendable, Hashable, Codable {
        package var oauth2: OAuth2?

        package init(oauth2: OAuth2?) {
            self.oauth2 = oauth2
        }
    }

    package struct OAuth2: Sendable, Hashable, Codable {
        package var environments: [Environment]?

        package init(environments: [Environment]?) {
            self.environments = environments
        }
    }

    /// One OAuth2 client of the application: `appId` is its consumer key (client id) in gateway environment `envId`
    /// for `keyType` (`PRODUCTION` or `SANDBOX`).
    package struct Environment: Sendable, Hashable, Codable {
        package var envId: String
        package var appId: String
        package var keyType: String

        package init(envId: String, appId: String, keyType: String) {
            self.envId = envId
            self.appId = appId
            self.keyType = keyType
        }
    }
}

/// `Subscription` (cp.wso2.com/v1alpha3) spec: a subscription to an API by its name and version.
package struct SubscriptionSpec: Sendable, Hashable, Codable {
    /// `ACTIVE`, `BLOCKED`, `PROD_ONLY_BLOCKED`, … (APIM's subscription states).
    package var subscriptionStatus: String
    package var organization: String
    package var api: SubscribedAPI
    package var ratelimitRef: RatelimitRef?

    package init(subscriptionStatus: String, organization: String, api: SubscribedAPI, ratelimitRef: RatelimitRef? = nil) {
        self.subscriptionStatus = subscriptionStatus
        self.organization = organization
        self.api = api
        self.ratelimitRef = ratelimitRef
    }

    package struct SubscribedAPI: Sendable, Hashable, Codable {
        package var name: String
        package var version: String

        package init(name: String, version: String) {
            self.name = name
            self.version = version
        }
    }

    package struct RatelimitRef: Sendable, Hashable, Codable {
        package var name: String
        package var level: String

        package init(name: String, level: String) {
            self.name = name
            self.level = level
        }
    }
}

/// `ApplicationMapping` (cp.wso2.com/v1alpha2) spec: which application holds which subscription (by CR names).
package struct ApplicationMappingSpec: Sendable, Hashable, Codable {
    package var applicationRef: String
    package var subscriptionRef: String

    package init(applicationRef: String, subscriptionRef: String) {
        self.applicationRef = applicationRef
        self.subscriptionRef = subscriptionRef
    }
}
