package import APKModel

/// Who may call an API with subscription validation on a route of one key type (contract §7.5): the consumer keys
/// (OAuth2 client ids) and the application ids (API keys' `application.uuid`) whose application holds a subscription
/// to the API. Sorted, without repeats, so that equal lists compile to equal route configurations.
package struct SubscriptionAllowList: Sendable, Hashable, Codable {
    package var consumerKeys: [String]
    package var applications: [String]

    package init(consumerKeys: [String], applications: [String]) {
        self.consumerKeys = consumerKeys
        self.applications = applications
    }

    package static let none = SubscriptionAllowList(consumerKeys: [], applications: [])
}

/// The allow-lists of one API per key type, computed from the control-plane resources (`Application`,
/// `Subscription`, `ApplicationMapping`). Rules (the reference's enforcer, plus subscription states):
/// - a subscription counts when its organization is the API's and its `api.name` / `api.version` equal the API's
///   name and version (exactly, as the reference compares them);
/// - `ACTIVE` (or no status) grants both key types, `PROD_ONLY_BLOCKED` only `SANDBOX`, any other state none;
/// - an `ApplicationMapping` ties it to an application of the same organization;
/// - that application's OAuth2 clients in the API's environment (`envId`; an API without one is in `Default`) for
///   the key type are the consumer keys; the application's resource name is its id (what API keys name).
package enum Subscribers {
    package struct Resource<Spec: Sendable>: Sendable {
        package var name: String
        package var spec: Spec

        package init(name: String, spec: Spec) {
            self.name = name
            self.spec = spec
        }
    }

    package static func allowLists(
        organization: String, apiName: String, apiVersion: String, environment: String?,
        applications: [Resource<ApplicationSpec>], subscriptions: [Resource<SubscriptionSpec>],
        mappings: [Resource<ApplicationMappingSpec>]
    ) -> [KeyType: SubscriptionAllowList] {
        let environment = (environment?.isEmpty ?? true) ? "Default" : environment!
        var granted: [String: Set<KeyType>] = [:]  // subscription name → key types it grants
        for subscription in subscriptions
        where subscription.spec.organization == organization && subscription.spec.api.name == apiName
            && subscription.spec.api.version == apiVersion
        {
            let types: Set<KeyType> = switch subscription.spec.subscriptionStatus.uppercased() {
            case "ACTIVE", "": [.production, .sandbox]
            case "PROD_ONLY_BLOCKED": [.sandbox]
            default: []
            }
            if !types.isEmpty { granted[subscription.name, default: []].formUnion(types) }
        }
        let byName = Dictionary(applications.map { ($0.name, $0.spec) }, uniquingKeysWith: { first, _ in first })
        var keys: [KeyType: Set<String>] = [:]
        var apps: [KeyType: Set<String>] = [:]
        for mapping in mappings {
            guard let types = granted[mapping.spec.subscriptionRef], let application = byName[mapping.spec.applicationRef],
                application.organization == organization
            else { continue }
            for type in types {
                apps[type, default: []].insert(mapping.spec.applicationRef)
                for client in application.securitySchemes?.oauth2?.environments ?? []
                where client.envId == environment && client.keyType.uppercased() == type.rawValue && !client.appId.isEmpty {
                    keys[type, default: []].insert(client.appId)
                }
            }
        }
        var result: [KeyType: SubscriptionAllowList] = [:]
        for type in [KeyType.production, .sandbox] {
            result[type] = SubscriptionAllowList(
                consumerKeys: (keys[type] ?? []).sorted(), applications: (apps[type] ?? []).sorted())
        }
        return result
    }
}
