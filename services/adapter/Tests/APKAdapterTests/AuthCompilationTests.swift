import APKAdapter
import APKAuthPlan
import APKModel
import APKStore
import APKXDS
import EnvoyProtos
import Foundation
import SwiftProtobuf
import Testing

/// The security part of the adapter: policies attached by `targetRef` are found and followed, what cannot be
/// enforced is not served (never served open), and every route names what Envoy's filters must check. The end-to-end
/// behaviour through a real Envoy is `GatewayAuthTests` (test/Integration).
@Suite struct AuthCompilationTests {
    static let employee = GatewayStateTests.employee

    static func authentication(_ name: String, api: String, _ details: JSONValue) -> K8sResource {
        K8sResource(
            apiVersion: "dp.wso2.com/v1alpha2", kind: "Authentication", metadata: ObjectMeta(name: name),
            body: JSONObject([("spec", .object(JSONObject([
                ("default", details),
                ("targetRef", .object(JSONObject([
                    ("group", .string("gateway.networking.k8s.io")), ("kind", .string("API")), ("name", .string(api)),
                ]))),
            ])))]))
    }

    static let disabled: JSONValue = .object(JSONObject([("disabled", .bool(true))]))
    static let apiKeys: JSONValue = .object(JSONObject([("authTypes", .object(JSONObject([
        ("apiKey", .object(JSONObject([("required", .string("optional")), ("keys", .array([.object(JSONObject([
            ("in", .string("Header")), ("name", .string("apikey")), ("sendTokenToUpstream", .bool(false)),
        ]))]))]))),
    ])))]))
    static func oauth2(header: String, sendToUpstream: Bool = true) -> JSONValue {
        .object(JSONObject([("authTypes", .object(JSONObject([
            ("oauth2", .object(JSONObject([
                ("header", .string(header)), ("sendTokenToUpstream", .bool(sendToUpstream)), ("disabled", .bool(false)),
                ("required", .string("mandatory")),
            ]))),
        ])))]))
    }

    /// The employee API's routes in a snapshot (jwt_authn per-route configs by route name).
    static func jwtConfigs(_ snapshot: Snapshot) throws -> [String: Envoy_Extensions_Filters_Http_JwtAuthn_V3_PerRouteConfig] {
        var configs: [String: Envoy_Extensions_Filters_Http_JwtAuthn_V3_PerRouteConfig] = [:]
        for configuration in try GatewayStateTests.routeConfigurations(snapshot) {
            for route in configuration.virtualHosts.flatMap(\.routes) where route.name.hasPrefix(employee) {
                let any = try #require(route.typedPerFilterConfig["envoy.filters.http.jwt_authn"], "\(route.name)")
                configs[route.name] = try Envoy_Extensions_Filters_Http_JwtAuthn_V3_PerRouteConfig(unpackingAny: any)
            }
        }
        return configs
    }

    /// The `jwt_authn` configuration Envoy gets over ECDS.
    static func jwtAuthentication(_ snapshot: Snapshot) throws -> Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtAuthentication {
        let resources = snapshot.resources(ofType: TypeURL.extensionConfig).resources
        let any = try #require(resources["envoy.filters.http.jwt_authn"], "\(resources.keys)")
        let config = try Envoy_Config_Core_V3_TypedExtensionConfig(unpackingAny: any)
        return try Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtAuthentication(unpackingAny: config.typedConfig)
    }

    @Test func policiesAttachedByTargetRefAreFollowedAndUnenforceableOnesAreNotServed() async throws {
        let fixture = InMemoryResourceStoreFixture()
        var state = try GatewayState(namespace: "default", settings: AdapterFixtures.settings)
        _ = state.load(try await fixture.snapshot())
        let resources = try AdapterFixtures.resources("golden/bundles/employee.yaml")
        func apply(_ extra: [K8sResource]) async throws -> GatewayState.Update {
            _ = try await fixture.store.apply(
                AdapterFixtures.bundle(resources + extra, api: Self.employee, organization: "default"), namespace: "default")
            return state.apply(try await fixture.events(after: state.cursor))
        }

        // No Authentication: every route requires OAuth2 on Authorization or an internal key.
        let secured = try #require(try await apply([]).snapshot)
        let initial = try Self.jwtConfigs(secured)
        #expect(!initial.isEmpty)
        #expect(initial.values.allSatisfy { $0.requirementName == "apk-oauth2/authorization+apk-internal-key" })
        let initialConfig = try Self.jwtAuthentication(secured)
        #expect(Set(initialConfig.requirementMap.keys) == ["apk-oauth2/authorization+apk-internal-key"])
        #expect(Set(initialConfig.providers.keys) == ["apk-oauth2/authorization", "apk-internal-key"])

        // An Authentication that targets the API and disables authentication: the same API retranslates (the API CR
        // itself did not change) and every route skips jwt_authn.
        let open = try await apply([Self.authentication("employee-auth", api: Self.employee, Self.disabled)])
        #expect(try Self.jwtConfigs(try #require(open.snapshot)).values.allSatisfy(\.disabled))

        // API keys without an API-key issuer on the gateway: the API is not served at all, and its status says why.
        let refused = try await apply([Self.authentication("employee-auth", api: Self.employee, Self.apiKeys)])
        #expect(try Self.jwtConfigs(try #require(refused.snapshot)).isEmpty, "no route of the API is left")
        let status = try #require(refused.statuses[Self.employee])
        #expect(!status.accepted)
        #expect(status.message.contains("trusts no API-key issuer (adapter setting AUTH_API_KEY_ISSUERS)"), "\(status.message)")

        // Another OAuth2 header: the gateway's jwt_authn configuration (ECDS, no listener change) gains a provider for
        // it and the requirement the API's routes name.
        let header = try await apply([Self.authentication("employee-auth", api: Self.employee, Self.oauth2(header: "x-token"))])
        let headerSnapshot = try #require(header.snapshot)
        #expect(try Self.jwtConfigs(headerSnapshot).values.allSatisfy { $0.requirementName == "apk-oauth2/x-token+apk-internal-key" })
        let headerConfig = try Self.jwtAuthentication(headerSnapshot)
        #expect(Set(headerConfig.requirementMap.keys) == ["apk-oauth2/x-token+apk-internal-key"])
        #expect(headerConfig.providers["apk-oauth2/x-token"]?.fromHeaders.map(\.name) == ["x-token"])
        #expect(headerSnapshot.version(ofType: TypeURL.listener) == secured.version(ofType: TypeURL.listener))

        // Two different Authentications on one API are ambiguous.
        let two = try await apply([
            Self.authentication("employee-auth", api: Self.employee, Self.disabled),
            Self.authentication("employee-auth-2", api: Self.employee, Self.oauth2(header: "authorization")),
        ])
        #expect(try #require(two.statuses[Self.employee]).message.contains("different Authentications"))

        // Removing it again serves the API with the default security.
        let back = try await apply([])
        #expect(try Self.jwtConfigs(try #require(back.snapshot)) == initial)
        #expect(try Self.jwtAuthentication(try #require(back.snapshot)) == initialConfig, "unused providers go again")
    }

    @Test func tokensNotSentUpstreamAreRemovedAndScopesAreAllRequired() throws {
        var resources = try AdapterFixtures.resources("adapter/edge-cases.in.yaml")
        resources.append(Self.authentication("edge-auth", api: "edge", Self.oauth2(header: "authorization", sendToUpstream: false)))
        let translation = ResourceTranslator().translate(
            api: try #require(resources.first { $0.kind == "API" && $0.name == "edge" }), namespace: "default",
            lookup: ResourceLookup(resources))
        let ir = try #require(translation.api, "\(translation.problems)")
        #expect(ir.auth.credentials == [.oauth2(header: "authorization", sendToUpstream: false), .internalKey(header: "internal-key")])
        let output = try XDSTranslator.resources(for: ir, settings: AdapterFixtures.settings)
        let routes = output.versionedRoutes.values.flatMap(\.self)
        #expect(!routes.isEmpty)
        #expect(routes.allSatisfy { $0.requestHeadersToRemove.contains("authorization") })
        let items = try #require(routes.first { $0.match.safeRegex.regex.contains("items") })
        let rbac = try Envoy_Extensions_Filters_Http_Rbac_V3_RBACPerRoute(
            unpackingAny: try #require(items.typedPerFilterConfig["envoy.filters.http.rbac"]))
        let oauth2 = try #require(rbac.rbac.rules.policies["oauth2"]?.principals.first)
        let required = oauth2.andIds.ids.map { $0.sourcedMetadata.metadataMatcher.value.listMatch.oneOf.stringMatch.exact }
        #expect(required == ["edge:read", "edge:audit"], "every scope of the Scope resource, all required (and_ids)")
        let internalKey = try #require(rbac.rbac.rules.policies["internal-key"]?.principals.first)
        #expect(internalKey.andIds.ids.map { $0.sourcedMetadata.metadataMatcher.value.stringMatch.exact } == ["edge", "PRODUCTION"])
    }

    @Test func aMissingScopeResourceLeavesTheOperationOutInsteadOfServingItUnchecked() throws {
        let resources = try AdapterFixtures.resources("adapter/edge-cases.in.yaml").filter { $0.kind != "Scope" }
        let translation = ResourceTranslator().translate(
            api: try #require(resources.first { $0.kind == "API" && $0.name == "edge" }), namespace: "default",
            lookup: ResourceLookup(resources))
        let ir = try #require(translation.api)
        #expect(!ir.environments.flatMap(\.routes).contains { $0.pathRegex == "/items/(.*)" })
        #expect(translation.problems.contains { $0.contains("Scope edge-scope does not exist; the rule is not served") })
    }
}

/// Subscription validation in the adapter: an API whose APIPolicy turns it on gets the subscription stage on its
/// secured routes, with the allow-list of each route's key type as `exact_match_map`s; writing an Application, a
/// Subscription and an ApplicationMapping (no redeploy) translates it again with the new list. Through Envoy:
/// `SubscriptionValidationTests` (test/Integration).
@Suite struct SubscriptionCompilationTests {
    static let employee = GatewayStateTests.employee

    static func policy() -> K8sResource {
        K8sResource(
            apiVersion: "dp.wso2.com/v1alpha4", kind: "APIPolicy", metadata: ObjectMeta(name: "employee-subscriptions"),
            body: JSONObject([("spec", .object(JSONObject([
                ("default", .object(JSONObject([("subscriptionValidation", .bool(true))]))),
                ("targetRef", .object(JSONObject([
                    ("group", .string("gateway.networking.k8s.io")), ("kind", .string("API")), ("name", .string(employee)),
                ]))),
            ])))]))
    }

    /// The subscription stage of each employee route (nil: not enabled there), by route name.
    static func stages(_ snapshot: Snapshot) throws -> [String: Envoy_Extensions_Filters_Http_Rbac_V3_RBACPerRoute?] {
        var stages: [String: Envoy_Extensions_Filters_Http_Rbac_V3_RBACPerRoute?] = [:]
        for configuration in try GatewayStateTests.routeConfigurations(snapshot) {
            for route in configuration.virtualHosts.flatMap(\.routes) where route.name.hasPrefix(employee) {
                stages[route.name] = try route.typedPerFilterConfig["apk.subscription"].map {
                    try Envoy_Extensions_Filters_Http_Rbac_V3_RBACPerRoute(unpackingAny: $0)
                }
            }
        }
        return stages
    }

    @Test func allowListsFollowTheSubscriptionData() async throws {
        let fixture = InMemoryResourceStoreFixture()
        var state = try GatewayState(namespace: "default", settings: AdapterFixtures.settings)
        _ = state.load(try await fixture.snapshot())
        let resources = try AdapterFixtures.resources("golden/bundles/employee.yaml") + [Self.policy()]
        let api = try #require(resources.first { $0.kind == "API" }?.spec)
        _ = try await fixture.store.apply(
            AdapterFixtures.bundle(resources, api: Self.employee, organization: "default"), namespace: "default")
        let first = try #require(state.apply(try await fixture.events(after: state.cursor)).snapshot)
        let none = try Self.stages(first)
        #expect(!none.isEmpty && none.values.allSatisfy { $0 != nil }, "every secured route has the stage")
        // Nobody subscribed: only the last level (authenticated callers are refused).
        #expect(none.values.compactMap(\.self).allSatisfy { stage in
            if case .matcherList = stage.rbac.matcher.matcherType { true } else { false }
        })

        let name = try #require(api["apiName"]?.stringValue), version = try #require(api["apiVersion"]?.stringValue)
        for resource in SubscriptionData.resources(apiName: name, version: version) {
            _ = try await fixture.store.applyResource(resource, namespace: "default")
        }
        let update = state.apply(try await fixture.events(after: state.cursor))
        let subscribed = try Self.stages(try #require(update.snapshot, "the API is translated again without a redeploy"))
        let production = try #require(subscribed.first { $0.key.contains("production") }?.value)
        #expect(production.rbac.matcher.matcherTree.exactMatchMap.map.keys.sorted() == ["client-a"])
        #expect(production.rbac.matcher.onNoMatch.matcher.matcherTree.exactMatchMap.map.keys.sorted() == ["app-1"])
        // The production routes get the production client only (the sandbox client is for sandbox routes).
        #expect(subscribed.values.compactMap(\.self).allSatisfy {
            !$0.rbac.matcher.matcherTree.exactMatchMap.map.keys.contains("client-a-sandbox")
        })
    }
}

/// An application `app-1` (clients `client-a` for production and `client-a-sandbox` for sandbox) subscribed to an API.
enum SubscriptionData {
    static func resources(apiName: String, version: String, status: String = "ACTIVE") -> [K8sResource] {
        func resource(_ kind: String, _ apiVersion: String, _ name: String, _ spec: JSONObject) -> K8sResource {
            K8sResource(apiVersion: "cp.wso2.com/\(apiVersion)", kind: kind, metadata: ObjectMeta(name: name), body: JSONObject([("spec", .object(spec))]))
        }
        func client(_ key: String, _ type: String) -> JSONValue {
            .object(JSONObject([("envId", "Default"), ("appId", .string(key)), ("keyType", .string(type))]))
        }
        return [
            resource("Application", "v1alpha2", "app-1", JSONObject([
                ("name", "shop"), ("owner", "alice"), ("organization", "default"),
                ("securitySchemes", .object(JSONObject([("oauth2", .object(JSONObject([("environments", .array([
                    client("client-a", "PRODUCTION"), client("client-a-sandbox", "SANDBOX"),
                ]))])))]))),
            ])),
            resource("Subscription", "v1alpha3", "sub-1", JSONObject([
                ("subscriptionStatus", .string(status)), ("organization", "default"),
                ("api", .object(JSONObject([("name", .string(apiName)), ("version", .string(version))]))),
            ])),
            resource("ApplicationMapping", "v1alpha2", "map-1", JSONObject([("applicationRef", "app-1"), ("subscriptionRef", "sub-1")])),
        ]
    }
}
