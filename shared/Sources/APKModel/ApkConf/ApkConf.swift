/// An APK API configuration (`apk-conf`), contract §4. Field order here is the order of every YAML we write.
///
/// Decoded only from documents that passed ``ApkConfSchema`` validation; absent fields take the defaults the
/// reference implementation applies (its record types, which win over its JSON schema where the two differ).
package struct ApkConf: Sendable, Hashable, Codable {
    package var id: String?
    package var name: String
    package var basePath: String
    package var version: String
    package var type: APIType = .rest
    package var definitionPath: String?
    package var defaultVersion: Bool = false
    package var subscriptionValidation: Bool = false
    package var environment: String?
    package var endpointConfigurations: EndpointConfigurations?
    package var aiProvider: AIProvider?
    package var operations: [Operation] = []
    package var apiPolicies: Policies?
    package var rateLimit: RateLimit?
    package var authentication: [Authentication]?
    package var additionalProperties: [Property]?
    package var corsConfiguration: CORSConfiguration?

    package init(name: String, basePath: String, version: String, type: APIType = .rest) {
        self.name = name
        self.basePath = basePath
        self.version = version
        self.type = type
    }

    package enum APIType: String, Sendable, Hashable, Codable, CaseIterable {
        case rest = "REST"
        case graphql = "GRAPHQL"
        case grpc = "GRPC"
    }

    package struct Property: Sendable, Hashable, Codable {
        package var name: String
        package var value: String

        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    package struct AIProvider: Sendable, Hashable, Codable {
        package var name: String
        package var apiVersion: String

        package init(name: String, apiVersion: String) {
            self.name = name
            self.apiVersion = apiVersion
        }
    }

    package struct RateLimit: Sendable, Hashable, Codable {
        package var requestsPerUnit: Int
        package var unit: Unit

        package init(requestsPerUnit: Int, unit: Unit) {
            self.requestsPerUnit = requestsPerUnit
            self.unit = unit
        }

        package enum Unit: String, Sendable, Hashable, Codable, CaseIterable {
            case minute = "Minute", hour = "Hour", day = "Day"
        }
    }

    package struct Operation: Sendable, Hashable, Codable {
        package var target: String
        package var verb: String
        package var secured: Bool = true
        package var scopes: [String]?
        package var endpointConfigurations: EndpointConfigurations?
        package var operationPolicies: Policies?
        package var rateLimit: RateLimit?

        package init(target: String, verb: String, secured: Bool = true, scopes: [String]? = nil) {
            self.target = target
            self.verb = verb
            self.secured = secured
            self.scopes = scopes
        }
    }

    package struct CORSConfiguration: Sendable, Hashable, Codable {
        package var corsConfigurationEnabled: Bool = false
        package var accessControlAllowOrigins: [String]?
        package var accessControlAllowCredentials: Bool?
        package var accessControlAllowHeaders: [String]?
        package var accessControlAllowMethods: [String]?
        package var accessControlAllowMaxAge: Int?
        package var accessControlExposeHeaders: [String]?

        package init(
            corsConfigurationEnabled: Bool = false,
            accessControlAllowOrigins: [String]? = nil,
            accessControlAllowCredentials: Bool? = nil,
            accessControlAllowHeaders: [String]? = nil,
            accessControlAllowMethods: [String]? = nil,
            accessControlAllowMaxAge: Int? = nil,
            accessControlExposeHeaders: [String]? = nil
        ) {
            self.corsConfigurationEnabled = corsConfigurationEnabled
            self.accessControlAllowOrigins = accessControlAllowOrigins
            self.accessControlAllowCredentials = accessControlAllowCredentials
            self.accessControlAllowHeaders = accessControlAllowHeaders
            self.accessControlAllowMethods = accessControlAllowMethods
            self.accessControlAllowMaxAge = accessControlAllowMaxAge
            self.accessControlExposeHeaders = accessControlExposeHeaders
        }
    }
}

// MARK: - Decoding with defaults

extension ApkConf {
    private enum CodingKeys: String, CodingKey {
        case id, name, basePath, version, type, definitionPath, defaultVersion, subscriptionValidation, environment,
            endpointConfigurations, aiProvider, operations, apiPolicies, rateLimit, authentication,
            additionalProperties, corsConfiguration
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        basePath = try c.decode(String.self, forKey: .basePath)
        version = try c.decode(String.self, forKey: .version)
        type = try c.decodeIfPresent(APIType.self, forKey: .type) ?? .rest
        definitionPath = try c.decodeIfPresent(String.self, forKey: .definitionPath)
        defaultVersion = try c.decodeIfPresent(Bool.self, forKey: .defaultVersion) ?? false
        subscriptionValidation = try c.decodeIfPresent(Bool.self, forKey: .subscriptionValidation) ?? false
        environment = try c.decodeIfPresent(String.self, forKey: .environment)
        endpointConfigurations = try c.decodeIfPresent(EndpointConfigurations.self, forKey: .endpointConfigurations)
        aiProvider = try c.decodeIfPresent(AIProvider.self, forKey: .aiProvider)
        operations = try c.decodeIfPresent([Operation].self, forKey: .operations) ?? []
        apiPolicies = try c.decodeIfPresent(Policies.self, forKey: .apiPolicies)
        rateLimit = try c.decodeIfPresent(RateLimit.self, forKey: .rateLimit)
        authentication = try c.decodeIfPresent([Authentication].self, forKey: .authentication)
        additionalProperties = try c.decodeIfPresent([Property].self, forKey: .additionalProperties)
        corsConfiguration = try c.decodeIfPresent(CORSConfiguration.self, forKey: .corsConfiguration)
    }
}

extension ApkConf.Operation {
    private enum CodingKeys: String, CodingKey {
        case target, verb, secured, scopes, endpointConfigurations, operationPolicies, rateLimit
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        target = try c.decode(String.self, forKey: .target)
        verb = try c.decode(String.self, forKey: .verb)
        secured = try c.decodeIfPresent(Bool.self, forKey: .secured) ?? true
        scopes = try c.decodeIfPresent([String].self, forKey: .scopes)
        endpointConfigurations = try c.decodeIfPresent(EndpointConfigurations.self, forKey: .endpointConfigurations)
        operationPolicies = try c.decodeIfPresent(Policies.self, forKey: .operationPolicies)
        rateLimit = try c.decodeIfPresent(ApkConf.RateLimit.self, forKey: .rateLimit)
    }
}

extension ApkConf.CORSConfiguration {
    private enum CodingKeys: String, CodingKey {
        case corsConfigurationEnabled, accessControlAllowOrigins, accessControlAllowCredentials,
            accessControlAllowHeaders, accessControlAllowMethods, accessControlAllowMaxAge, accessControlExposeHeaders
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        corsConfigurationEnabled = try c.decodeIfPresent(Bool.self, forKey: .corsConfigurationEnabled) ?? false
        accessControlAllowOrigins = try c.decodeIfPresent([String].self, forKey: .accessControlAllowOrigins)
        accessControlAllowCredentials = try c.decodeIfPresent(Bool.self, forKey: .accessControlAllowCredentials)
        accessControlAllowHeaders = try c.decodeIfPresent([String].self, forKey: .accessControlAllowHeaders)
        accessControlAllowMethods = try c.decodeIfPresent([String].self, forKey: .accessControlAllowMethods)
        accessControlAllowMaxAge = try c.decodeIfPresent(Int.self, forKey: .accessControlAllowMaxAge)
        accessControlExposeHeaders = try c.decodeIfPresent([String].self, forKey: .accessControlExposeHeaders)
    }
}
