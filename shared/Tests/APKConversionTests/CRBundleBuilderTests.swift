import APKModel
import APKTestSupport
import Foundation
import Testing
import APKConversion

@Suite("apk-conf → CR bundle")
struct CRBundleBuilderTests {
    static let fixtures = ["employee", "full", "ai"]

    func conf(_ name: String) throws -> ApkConf {
        try ApkConfLoader().load(Fixtures.data("bundles/\(name).apk-conf.yaml"))
    }

    func bundle(_ name: String, organization: String = "default", options: CRBundleBuilder.Options = .init()) throws -> CRBundle {
        try CRBundleBuilder(options: options).build(conf: conf(name), definition: nil, organization: organization)
    }

    @Test("golden bundle", arguments: fixtures)
    func golden(_ name: String) throws {
        let yaml = try bundle(name).yamlStream()
        let difference = try Golden.difference(yaml, goldenFile: "golden/bundles/\(name).yaml")
        #expect(difference == nil, "\(difference ?? "")")
    }

    @Test("same input gives byte-identical output", arguments: fixtures)
    func deterministic(_ name: String) throws {
        #expect(try bundle(name).yamlStream() == bundle(name).yamlStream())
    }

    @Test func identityIsSha1OfOrgNameVersion() throws {
        // Contract §3.2 step 3: default-EmployeeServiceAPI-3.14 → f7996dce…
        let bundle = try bundle("employee")
        #expect(bundle.apiID == "f7996dce4ac15e2af0f8ee14546c4f72988eddae")
        #expect(bundle.resources.first?.kind == "API")
        #expect(bundle.resources.first?.name == bundle.apiID)
    }

    @Test func explicitIDIsUsedAndAnnotated() throws {
        let api = try #require(try bundle("full").resources.first)
        #expect(api.name == "orders-api-v2")
        #expect(api.metadata.annotations == [.init("wso2apk/api-uuid", "orders-api-v2")])
    }

    @Test func everyResourceCarriesTheAPILabels() throws {
        let bundle = try bundle("full", organization: "org1")
        for resource in bundle.resources {
            #expect(resource.metadata.label("api-name") == Hashing.sha1("Orders API"))
            #expect(resource.metadata.label("api-version") == Hashing.sha1("v2"))
            #expect(resource.metadata.label("organization") == Hashing.sha1("org1"))
            #expect(resource.metadata.label("managed-by") == "apk")
        }
    }

    @Test func apiSpecAppendsVersionToBasePath() throws {
        let spec = try #require(try bundle("employee").resources.first?.spec)
        #expect(spec["basePath"] == "/test/3.14")
        #expect(spec["organization"] == "default")
        #expect(spec["definitionFileRef"] == "f7996dce4ac15e2af0f8ee14546c4f72988eddae-definition")
        #expect(spec["production"]?.arrayValue?.first?["routeRefs"] == ["f7996dce4ac15e2af0f8ee14546c4f72988eddae-production-httproute-1"])
        #expect(spec["sandbox"] == nil)
    }

    @Test func eightOperationsPerRoute() throws {
        var conf = try conf("employee")
        conf.operations = (0..<17).map { ApkConf.Operation(target: "/r\($0)", verb: "GET") }
        let bundle = try CRBundleBuilder().build(conf: conf, definition: nil, organization: "default")
        let routes = bundle.resources.filter { $0.kind == "HTTPRoute" }
        #expect(routes.map(\.name) == (1...3).map { "\(bundle.apiID)-production-httproute-\($0)" })
        #expect(routes.map { $0.spec?["rules"]?.arrayValue?.count } == [8, 8, 1])
    }

    @Test func hostnamesFollowOrganizationAndEnvironment() throws {
        let routes = try bundle("full", organization: "org1").resources.filter { $0.kind == "HTTPRoute" }
        for route in routes {
            let expected: JSONValue = route.name.contains("-sandbox-") ? ["org1-dev.sandbox.gw.wso2.com"] : ["org1-dev.gw.wso2.com"]
            #expect(route.spec?["hostnames"] == expected)
        }
        #expect(routes.contains { $0.name.contains("-sandbox-") })
        let employee = try bundle("employee").resources.first { $0.kind == "HTTPRoute" }
        #expect(employee?.spec?["hostnames"] == ["default.gw.wso2.com"])
    }

    @Test func pathRegexAndRewritePerTarget() throws {
        let route = try #require(try bundle("employee").resources.first { $0.kind == "HTTPRoute" })
        let rules = try #require(route.spec?["rules"]?.arrayValue)
        let pairs = rules.map { rule in
            (rule["matches"]?.arrayValue?.first?["path"]?["value"]?.stringValue ?? "",
             rule["filters"]?.arrayValue?.first?["urlRewrite"]?["path"]?["replaceFullPath"]?.stringValue ?? "")
        }
        #expect(pairs.map(\.0) == ["/employee/(.*)", "/employee/(.*)", "/employee", "/employee"])
        #expect(pairs.map(\.1) == ["/employee/\\1", "/employee/\\1", "/employee", "/employee"])
    }

    @Test func ownerReferencesOnlyWithKnownUID() throws {
        #expect(try bundle("employee").resources.allSatisfy { $0.metadata.ownerReferences == nil })
        var options = CRBundleBuilder.Options()
        options.ownerUID = "0d5c7c5e-0000-4000-8000-000000000001"
        let owned = try bundle("employee", options: options)
        #expect(owned.resources.first?.metadata.ownerReferences == nil)
        for child in owned.resources.dropFirst() {
            let reference = try #require(child.metadata.ownerReferences?.first)
            #expect(reference.kind == "API" && reference.name == owned.apiID && reference.uid == options.ownerUID)
            #expect(reference.apiVersion == "dp.wso2.com/v1alpha3")
        }
    }

    @Test func definitionConfigMapIsGzippedBase64() throws {
        let map = try #require(try bundle("employee").resources.first { $0.kind == "ConfigMap" })
        let encoded = try #require(map.body["binaryData"]?["definition"]?.stringValue)
        let gz = try #require(Data(base64Encoded: encoded))
        let definition = try DocumentParser().parse(Gzip.decompress(gz))
        #expect(definition["info"]?["title"] == "EmployeeServiceAPI")
        #expect(definition["paths"]?["/employee/{employeeId}"]?["put"] != nil)
    }

    @Test func childrenComeInCreationOrder() throws {
        let kinds = try bundle("full").resources.map(\.kind)
        let order = ["API", "ConfigMap", "Scope", "Backend", "Authentication", "RateLimitPolicy", "AIRateLimitPolicy",
                     "InterceptorService", "BackendJWT", "APIPolicy", "HTTPRoute"]
        let ranks = kinds.map { order.firstIndex(of: $0) ?? -1 }
        #expect(!ranks.contains(-1))
        #expect(ranks == ranks.sorted())
    }

    @Test func sharedScopeCRsAndAllScopesOnTheRule() throws {
        let bundle = try bundle("full")
        let scopes = bundle.resources.filter { $0.kind == "Scope" }
        #expect(scopes.compactMap { $0.spec?["names"] } == [["orders:read"], ["orders:write"]])
        let rules = bundle.resources.filter { $0.name.hasSuffix("production-httproute-1") }.flatMap { $0.spec?["rules"]?.arrayValue ?? [] }
        let post = try #require(rules.first { $0["matches"]?.arrayValue?.first?["method"] == "POST" && $0["matches"]?.arrayValue?.first?["path"]?["value"] == "/orders" })
        let refs = post["filters"]?.arrayValue?.compactMap { $0["extensionRef"]?["kind"]?.stringValue } ?? []
        #expect(refs == ["Scope", "Scope", "RateLimitPolicy"])
    }

    @Test func unsupportedTypesAndBadOrganizations() throws {
        var conf = try conf("employee")
        #expect(throws: APKError.invalidOrganization("Bad_Org")) {
            try CRBundleBuilder().build(conf: conf, definition: nil, organization: "Bad_Org")
        }
        conf.type = .graphql
        conf.operations = [.init(target: "hello", verb: "QUERY")]
        let error = try #require(throws: APKError.self) { try CRBundleBuilder().build(conf: conf, definition: nil, organization: "default") }
        #expect(error.code == 909006)
    }
}
