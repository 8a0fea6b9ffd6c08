import APKAdapter
import APKAuthPlan
import APKModel
import APKStore
import APKTestSupport
import APKXDS
import EnvoyProtos
import Foundation
import SwiftProtobuf
import Testing

/// Golden files for both pure stages: stored CRs → IR (`*.ir.json`) and IR → Envoy resources (`*.xds.json`).
/// Inputs: the deployer's own bundles (test/fixtures/golden/bundles) and hand-written edge cases
/// (test/fixtures/adapter). `APK_UPDATE_GOLDEN=1` rewrites the expected files.
@Suite struct TranslationGoldenTests {
    static let inputs = [
        ("employee", "golden/bundles/employee.yaml"),
        ("full", "golden/bundles/full.yaml"),
        // The same bundle without its API-level Authentications and APIPolicies (API keys and subscription validation
        // are refused, so "full" is not served): every other feature of the bundle through both stages, with the
        // default OAuth2 + internal-key security.
        ("full-default-security", "golden/bundles/full.yaml"),
        ("edge-cases", "adapter/edge-cases.in.yaml"),
    ]

    @Test(arguments: inputs)
    func storeToIRToXDS(name: String, input: String) throws {
        var resources = try AdapterFixtures.resources(input)
        if name == "full-default-security" {
            resources.removeAll { ["Authentication", "APIPolicy"].contains($0.kind) && ResourceLookup.targetAPI(of: $0) != nil }
        }
        let lookup = ResourceLookup(resources)
        let translator = ResourceTranslator()
        var irDocument = JSONObject()
        var apis: [APIResources] = []
        var clusters: [JSONValue] = []
        for api in resources.filter({ $0.kind == "API" }).sorted(by: { $0.name < $1.name }) {
            let translation = translator.translate(api: api, namespace: "default", lookup: lookup)
            irDocument[api.name] = .object(JSONObject([
                ("api", try translation.api.map { try JSONValueCoding.encode($0) } ?? .null),
                ("problems", .array(translation.problems.map(JSONValue.string))),
                ("references", .array(translation.references.sorted().map { .string($0.description) })),
            ]))
            if let ir = translation.api {
                let output = try XDSTranslator.resources(for: ir, settings: AdapterFixtures.settings)
                apis.append(output)
                clusters += try output.clusters.map(AdapterFixtures.json)
            }
        }
        let settings = AdapterFixtures.settings
        let system = try XDSTranslator.systemResources(settings: settings)
        let systemRoutes = try EncodedRoutes(system)
        // What the adapter publishes is assembled per scope from per-API encoded routes (RouteAssembly, the one
        // route-configuration builder). Shuffled input: the order must come from the assembly, not from the caller.
        let encoded = try apis.reversed().map { try EncodedRoutes($0) }
        let segments = encoded.reduce(systemRoutes.segments) { $0.union($1.segments) }.sorted()
        var scopes: [Envoy_Config_Route_V3_ScopedRouteConfiguration] = []
        for segment in segments {
            let assembled = try RouteAssembly.assemble(segment: segment, system: systemRoutes, apis: encoded, settings: settings)
            let scopeAny = try RouteAssembly.scope(segment: segment, routeConfiguration: assembled.bytes, settings: settings)
            #expect(scopeAny.typeURL == "type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration")
            let scope = try Envoy_Config_Route_V3_ScopedRouteConfiguration(serializedBytes: scopeAny.value)
            #expect(scope.name == XDSTranslator.routeConfigurationName(segment: segment, settings: settings))
            #expect(scope.key.fragments.map(\.stringKey) == [segment])
            #expect(scope.routeConfiguration.name == scope.name)
            #expect(try Envoy_Config_Route_V3_RouteConfiguration(serializedBytes: assembled.bytes) == scope.routeConfiguration)
            scopes.append(scope)
            let again = try RouteAssembly.assemble(
                segment: segment, system: systemRoutes, apis: try apis.map { try EncodedRoutes($0) }, settings: settings)
            #expect(again.version == assembled.version && again.bytes == assembled.bytes)
            if let first = encoded.first(where: { $0.segments.contains(segment) }) {
                let fewer = try RouteAssembly.assemble(
                    segment: segment, system: systemRoutes,
                    apis: encoded.filter { $0.id != first.id }, settings: settings)
                #expect(fewer.version != assembled.version, "removing \(first.id) from \(segment) must change the version")
            }
        }
        let routes = scopes.map(\.routeConfiguration)
        #expect(Set(routes.map(\.name)).count == routes.count)
        let xds = JSONValue.object(JSONObject([
            ("listeners", .array(try XDSTranslator.listeners(settings: settings).map(AdapterFixtures.json))),
            // ECDS: the jwt_authn configuration for the credential lists these APIs' routes name.
            ("extension_configs", .array([try AdapterFixtures.json(XDSTranslator.jwtAuthnExtension(
                requirements: apis.reduce(into: Set<JWTRequirement>()) { $0.formUnion($1.requirements) }, settings: settings,
                encoder: .deterministic))])),
            ("scopes", .array(try scopes.map(AdapterFixtures.json))),
            ("clusters", .array(clusters)),
        ]))
        if let difference = try Golden.difference(
            DocumentWriter.json(.object(irDocument), pretty: true) + "\n", goldenFile: "golden/adapter/\(name).ir.json")
        {
            Issue.record("\(difference)")
        }
        if let difference = try Golden.difference(
            DocumentWriter.json(xds, pretty: true) + "\n", goldenFile: "golden/adapter/\(name).xds.json")
        {
            Issue.record("\(difference)")
        }
    }

    @Test func scopeIsTheFirstPathSegment() {
        #expect(ScopedRouting.segment(basePath: "/http-bin-api/1.0.8", pathSegment: ScopedRouting.literalSegment(ofRegex: "(.*)")) == "http-bin-api")
        #expect(ScopedRouting.segment(basePath: "/1.0", pathSegment: ScopedRouting.literalSegment(ofRegex: "/{id}")) == "1.0")
        #expect(ScopedRouting.segment(basePath: "//v1", pathSegment: ScopedRouting.literalSegment(ofRegex: "")) == "", "Envoy keys //v1 as the empty segment")
        // Root base path (a default-version API whose base path is only its version): the operation decides.
        #expect(ScopedRouting.segment(basePath: "", pathSegment: ScopedRouting.literalSegment(ofRegex: #"/pets/(.*)"#)) == "pets")
        #expect(ScopedRouting.segment(basePath: "", pathSegment: ScopedRouting.literalSegment(ofRegex: #"/v1\.2"#)) == "v1.2")
        #expect(ScopedRouting.segment(basePath: "", pathSegment: ScopedRouting.literalSegment(ofRegex: "/pets((?:/.*)*)")) == "pets")
        #expect(ScopedRouting.segment(basePath: "", pathSegment: ScopedRouting.literalSegment(ofRegex: "/")) == "")
        #expect(ScopedRouting.segment(basePath: "", pathSegment: ScopedRouting.literalSegment(ofRegex: "")) == "")
        #expect(ScopedRouting.segment(basePath: "", pathSegment: ScopedRouting.literalSegment(ofRegex: "/(.*)")) == nil)
        #expect(ScopedRouting.segment(basePath: "", pathSegment: ScopedRouting.literalSegment(ofRegex: "/pets(.*)")) == nil, "/petsX has another segment")
        #expect(ScopedRouting.segment(basePath: "", pathSegment: ScopedRouting.literalSegment(ofRegex: "((?:/.*)*)")) == nil)
        #expect(ScopedRouting.segment(basePath: "/", pathSegment: ScopedRouting.literalSegment(ofRegex: "/[a-z]+")) == nil)
    }

    @Test func routeRegexQuotesTheBasePathAndAllowsATrailingSlash() {
        #expect(XDSTranslator.pathRegex(basePath: "/http-bin-api/1.0.8", operationRegex: "/anything/(.*)")
            == #"^/http-bin-api/1\.0\.8/anything/(.*)([/]{0,1})"#)
        #expect(RegexQuoting.quote("a.b+c(d)[e]{f}|g^h$i?j*k\\") == #"a\.b\+c\(d\)\[e\]\{f\}\|g\^h\$i\?j\*k\\"#)
    }

    @Test func edgeCasesReportEveryProblemAndKeepTheRest() throws {
        let resources = try AdapterFixtures.resources("adapter/edge-cases.in.yaml")
        let lookup = ResourceLookup(resources)
        func translate(_ name: String) throws -> APITranslation {
            let api = try #require(resources.first(where: { $0.kind == "API" && $0.name == name }))
            return ResourceTranslator().translate(api: api, namespace: "default", lookup: lookup)
        }
        let edge = try translate("edge")
        let api = try #require(edge.api)
        #expect(api.environments.map(\.kind) == [.production, .sandbox])
        #expect(api.environments[0].hostnames == ["acme.gw.wso2.com"], "the invalid hostname is dropped")
        #expect(edge.problems.contains { $0.contains("Backend does-not-exist does not exist") })
        #expect(edge.problems.contains { $0.contains("\"bad host\"") })
        #expect(edge.problems.contains { $0.contains("filter type CORS") })
        let secure = try #require(api.backends.first(where: { $0.cluster == "default/edge-secure" }))
        #expect(secure.tls?.trustedCA?.hasPrefix("-----BEGIN CERTIFICATE-----") == true, "CA read from the ConfigMap")
        #expect(edge.references.contains(ReferenceKey(kind: "ConfigMap", name: "edge-ca")))
        let items = try #require(api.environments[0].routes.first(where: { $0.pathRegex == "/items/(.*)" }))
        #expect(items.forward?.rewrite == #"/v2/items/\1"#, "Backend base path without a doubled slash")
        #expect(items.forward?.retry?.attempts == 2)
        #expect(items.forward?.retry?.statusCodes == [502, 503])

        let graph = try translate("graph")
        #expect(graph.api == nil)
        #expect(graph.problems == ["API type GraphQL is not served by the gateway yet (REST only)"])
        let orphan = try translate("orphan")
        #expect(orphan.api?.environments.isEmpty == true)
        #expect(orphan.problems.contains("HTTPRoute orphan-production-1 (production) does not exist"))
    }

    @Test func snapshotsFromTheFixturesAreConsistent() async throws {
        for (_, input) in Self.inputs {
            let resources = try AdapterFixtures.resources(input)
            let store = InMemoryResourceStoreFixture()
            for api in resources.filter({ $0.kind == "API" }) {
                let organization = api.spec?["organization"]?.stringValue ?? "default"
                _ = try await store.store.apply(AdapterFixtures.bundle(resources, api: api.name, organization: organization), namespace: "default")
            }
            var state = try GatewayState(namespace: "default", settings: AdapterFixtures.settings)
            let update = state.load(try await store.snapshot())
            let snapshot = try #require(update.snapshot)
            #expect(snapshot.inconsistencies().isEmpty, "\(input): \(snapshot.inconsistencies())")
        }
    }
}
