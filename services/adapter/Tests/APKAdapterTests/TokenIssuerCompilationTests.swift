@testable import APKAdapter
import APKAuth
import APKAuthPlan
import APKModel
import APKProtos
import APKTestTokens
import APKStore
import APKXDS
import EnvoyProtos
import Foundation
import SwiftProtobuf
import Testing

/// `TokenIssuer` resources (contract §6, §7.3) in the adapter: an API trusts the issuers of its organization and
/// environment besides the gateway's own — natively as `jwt_authn` providers (remote JWKS through a cluster of its
/// own, or a local JWKS from the certificate) named by the API's requirement, with the issuer's scopes and
/// consumer-key claims; and the enforcer gets them over APK discovery. Unusable issuers trust nothing and say why.
/// Through a real Envoy: `TokenIssuerTests` (test/Integration).
@Suite struct TokenIssuerCompilationTests {
    static let employee = GatewayStateTests.employee
    /// A public key PEM (any RSA-2048 key does: nothing is signed here).
    static let publicKeyPEM = try! TokenFactory(issuer: "https://certs.example/token", internalIssuer: "unused", now: 0).publicKeyPEM

    static func issuer(
        _ name: String, organization: String, _ fields: [(String, JSONValue)]
    ) -> K8sResource {
        K8sResource(
            apiVersion: "dp.wso2.com/v1alpha2", kind: "TokenIssuer", metadata: ObjectMeta(name: name),
            body: JSONObject([("spec", .object(JSONObject(
                [("name", .string(name)), ("organization", .string(organization))] + fields)))]))
    }

    static func jwks(_ url: String) -> (String, JSONValue) {
        ("signatureValidation", .object(JSONObject([("jwks", .object(JSONObject([("url", .string(url))])))])))
    }

    static func certificate(_ pem: String) -> (String, JSONValue) {
        ("signatureValidation", .object(JSONObject([
            ("certificate", .object(JSONObject([("certificateInline", .string(pem))]))),
        ])))
    }

    @Test func anAPITrustsItsOrganizationsIssuersNativelyAndTheEnforcerLearnsThem() async throws {
        let fixture = InMemoryResourceStoreFixture()
        let settings = AdapterFixtures.settings
        var state = try GatewayState(namespace: "default", settings: settings)
        _ = state.load(try await fixture.snapshot())
        let resources = try AdapterFixtures.resources("golden/bundles/employee.yaml")
        let organization = try #require(resources.first { $0.kind == "API" }?.spec?["organization"]?.stringValue)
        _ = try await fixture.store.apply(
            AdapterFixtures.bundle(resources, api: Self.employee, organization: organization), namespace: "default")
        let before = try #require(state.apply(try await fixture.events(after: state.cursor)).snapshot)
        let baseRequirement = try #require(Set(try AuthCompilationTests.jwtConfigs(before).values.map(\.requirementName)).first)
        #expect(!baseRequirement.contains("@"), "no organization issuer yet")

        let pem = Self.publicKeyPEM
        let issuers = [
            Self.issuer("partner", organization: organization, [
                ("issuer", "https://partner.example/token"), Self.jwks("https://keys.partner.example:8443/jwks"),
                ("scopesClaim", "scp"), ("consumerKeyClaim", "client_id"),
            ]),
            Self.issuer("certs", organization: organization, [("issuer", "https://certs.example/token"), Self.certificate(pem)]),
            Self.issuer("elsewhere", organization: "other-org", [("issuer", "https://elsewhere.example"), Self.certificate(pem)]),
            Self.issuer("eu-only", organization: organization, [
                ("issuer", "https://eu.example"), Self.certificate(pem), ("environments", ["eu"]),
            ]),
            Self.issuer("broken", organization: organization, [
                ("issuer", "https://broken.example"), Self.certificate("not a certificate"),
            ]),
            Self.issuer("clash", organization: organization, [("issuer", .string(settings.auth.issuer)), Self.certificate(pem)]),
        ]
        for issuer in issuers { _ = try await fixture.store.applyResource(issuer, namespace: "default") }
        let update = state.apply(try await fixture.events(after: state.cursor))
        let snapshot = try #require(update.snapshot, "the secured API is translated again without a redeploy")

        // The enforcer's discovery: every usable issuer of every organization (eu-only included: it serves other APIs).
        let services = try #require(update.services)
        let delivered = services.resources(ofType: TypeURL.tokenIssuer).resources
        #expect(delivered.keys.sorted() == ["\(organization)/certs", "\(organization)/eu-only", "\(organization)/partner", "other-org/elsewhere"])
        let partner = try Apk_Discovery_V1_TokenIssuer(unpackingAny: try #require(delivered["\(organization)/partner"]))
        #expect(partner.jwksURL == "https://keys.partner.example:8443/jwks" && partner.scopesClaim == "scp")
        #expect(partner.consumerKeyClaim == "client_id" && partner.name == "partner")

        // Native: the API's routes name a requirement with its organization's two usable issuers.
        let expected = "\(baseRequirement)@\(organization)/certs,\(organization)/partner"
        #expect(Set(try AuthCompilationTests.jwtConfigs(snapshot).values.map(\.requirementName)) == [expected])
        let jwt = try AuthCompilationTests.jwtAuthentication(snapshot)
        let requirement = try #require(jwt.requirementMap[expected])
        let names = requirement.requiresAny.requirements.map(\.providerName)
        let partnerProvider = try #require(jwt.providers["apk-oauth2/authorization/\(organization)/partner"], "\(jwt.providers.keys.sorted())")
        #expect(names.contains("apk-oauth2/authorization/\(organization)/partner"))
        #expect(names.contains("apk-oauth2/authorization/\(organization)/certs"))
        #expect(!jwt.providers.keys.contains { $0.contains("elsewhere") || $0.contains("eu-only") || $0.contains("broken") || $0.contains("clash") })
        #expect(partnerProvider.issuer == "https://partner.example/token")
        #expect(partnerProvider.remoteJwks.httpUri.cluster == "apk-issuer-jwks/\(organization)/partner")
        #expect(partnerProvider.remoteJwks.httpUri.uri == "https://keys.partner.example:8443/jwks")
        #expect(partnerProvider.normalizePayloadInMetadata.spaceDelimitedClaims == ["scp"])
        #expect(partnerProvider.claimToHeaders.contains { $0.headerName == SubscriptionHeaders.consumerKey && $0.claimName == "client_id" })
        let certs = try #require(jwt.providers["apk-oauth2/authorization/\(organization)/certs"])
        let localKeys = try #require(VerificationKey.keys(fromJWKS: Array(certs.localJwks.inlineString.utf8)))
        #expect(localKeys.count == 1, "the certificate's key as a local JWKS")
        // The JWKS cluster, over TLS (https URL).
        let clusters = snapshot.resources(ofType: TypeURL.cluster).resources
        let cluster = try Envoy_Config_Cluster_V3_Cluster(
            unpackingAny: try #require(clusters["apk-issuer-jwks/\(organization)/partner"], "\(clusters.keys.sorted())"))
        #expect(cluster.loadAssignment.endpoints.first?.lbEndpoints.first?.endpoint.address.socketAddress.portValue == 8443)
        #expect(cluster.transportSocket.name == "envoy.transport_sockets.tls")
        // What cannot be used is said in the API's status.
        let problems = try #require(state.translation(of: Self.employee)).problems.joined(separator: "\n")
        #expect(problems.contains("broken") && problems.contains("clash"), "\(problems)")

        // Removing an issuer: gone from the router and from the enforcer's set.
        _ = try await fixture.store.deleteResource(ResourceKey(kind: "TokenIssuer", namespace: "default", name: "partner"))
        let removed = state.apply(try await fixture.events(after: state.cursor))
        let after = try #require(removed.snapshot)
        #expect(Set(try AuthCompilationTests.jwtConfigs(after).values.map(\.requirementName)) == ["\(baseRequirement)@\(organization)/certs"])
        #expect(try AuthCompilationTests.jwtAuthentication(after).providers.keys.allSatisfy { !$0.contains("partner") })
        #expect(after.resources(ofType: TypeURL.cluster).resources["apk-issuer-jwks/\(organization)/partner"] == nil)
        #expect(try #require(removed.services).resources(ofType: TypeURL.tokenIssuer).resources["\(organization)/partner"] == nil)
    }

    @Test func scopesAreReadFromTheClaimOfTheIssuerThatSigned() async throws {
        // A scoped operation: the OAuth2 policy matches `scope` for the gateway's issuers and `scp` by `iss` for the
        // partner.
        var plan = APIAuthPlan(
            apiID: "a", organization: "o", disabled: false,
            credentials: [.oauth2(header: "authorization", sendToUpstream: true)], subscriptionValidation: false)
        plan.issuers = [PlanIssuer(id: "o/partner", issuer: "https://partner.example/token", scopesClaim: "scp")]
        var route = Envoy_Config_Route_V3_Route()
        try XDSTranslator.applyAuth(
            plan, OperationAuthPlan(target: "/x", secured: true, scopes: ["read"]), keyType: .production, to: &route,
            settings: AdapterFixtures.settings, encoder: .deterministic)
        let rbac = try Envoy_Extensions_Filters_Http_Rbac_V3_RBACPerRoute(
            unpackingAny: try #require(route.typedPerFilterConfig["envoy.filters.http.rbac"]))
        let text = try rbac.jsonString()
        #expect(text.contains("\"scp\"") && text.contains("\"scope\"") && text.contains("https://partner.example/token"), "\(text)")
        // Without a partner using another claim: the plain form (no issuer check).
        plan.issuers = [PlanIssuer(id: "o/partner", issuer: "https://partner.example/token")]
        var plain = Envoy_Config_Route_V3_Route()
        try XDSTranslator.applyAuth(
            plan, OperationAuthPlan(target: "/x", secured: true, scopes: ["read"]), keyType: .production, to: &plain,
            settings: AdapterFixtures.settings, encoder: .deterministic)
        let plainText = try Envoy_Extensions_Filters_Http_Rbac_V3_RBACPerRoute(
            unpackingAny: try #require(plain.typedPerFilterConfig["envoy.filters.http.rbac"])).jsonString()
        #expect(!plainText.contains("partner.example") && plainText.contains("\"scope\""))
    }
}
