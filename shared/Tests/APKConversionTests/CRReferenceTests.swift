import APKModel
import APKTestSupport
import Foundation
import Testing
import APKConversion

/// Resource names and shapes as the reference's config-deployer-service builds them (issue 13 item 2), for the
/// hand-written input `test/fixtures/reference/bundles/billing.apk-conf.yaml`. The expected names were computed
/// outside our code (`printf '%s' "<input>" | sha1sum`) from the reference's formulas (`APIClient.bal`:
/// `getBackendServiceUid`, `getScopeUid` and its counter, `getInterceptorBackendUid`, `getInterceptorServiceUid`).
@Suite struct CRReferenceTests {
    /// sha1("default-Billing-1.0"): the API id (no `id` in the apk-conf) and the interceptor stem.
    static let apiID = "4c5163515d01738dab7257d354f0cb55b68366ac"

    func bundle() throws -> CRBundle {
        let conf = try ApkConfLoader().load(Fixtures.data("reference/bundles/billing.apk-conf.yaml"))
        return try CRBundleBuilder().build(conf: conf, definition: nil, organization: "default")
    }

    func resource(_ kind: String, _ name: String, in bundle: CRBundle) throws -> K8sResource {
        try #require(bundle.resources.first { $0.kind == kind && $0.name == name }, "\(kind) \(name) missing")
    }

    /// API-level Backends: `backend-sha1("<org>-<name>-<version>-<env>-<host>-<path>")-api`, host and path as
    /// written (trailing slash kept, "" when none) and `basePath` as given (the reference's test expects `/v1/`).
    @Test func apiLevelBackendsAreNamedByHostAndPath() throws {
        let bundle = try bundle()
        // sha1("default-Billing-1.0-production-Billing.example.com-/v1/")
        let production = try resource("Backend", "backend-c800dd4a237bab757dd9fb5791bc9daaacddd2cb-api", in: bundle)
        #expect(production.spec?["basePath"] == "/v1/")
        #expect(production.spec?["protocol"] == "https")
        #expect(production.spec?["services"] == [["host": "Billing.example.com", "port": 8443]])
        // sha1("default-Billing-1.0-sandbox-sandbox.example.com-")
        let sandbox = try resource("Backend", "backend-e5f7157bdb3e908ca0d6e023f423c974a6652949-api", in: bundle)
        #expect(sandbox.spec?["basePath"] == "")
        #expect(sandbox.spec?["services"] == [["host": "sandbox.example.com", "port": 80]])
    }

    /// Scopes: visited as rules are built (production operations first, then sandbox ones); each operation counts
    /// from 1 the Scopes it creates. `/legacy` has only a sandbox endpoint of its own, so `shared` is created by
    /// `/invoices` in the production pass.
    @Test func scopesAreNumberedAsTheReferenceCreatesThem() throws {
        let bundle = try bundle()
        let scopes = Dictionary(uniqueKeysWithValues: bundle.resources.filter { $0.kind == "Scope" }.map {
            ($0.spec?["names"]?.arrayValue?.first?.stringValue ?? "", $0.name)
        })
        #expect(scopes == [
            "shared": "cabe52e953f7dc899c86738da76c961329b55a74-scope-1",  // sha1(apiID + "/invoicesGET")
            "read": "cabe52e953f7dc899c86738da76c961329b55a74-scope-2",
            "write": "a30d531364cdaba18d70a6f4693f69cd457bc128-scope-1",  // sha1(apiID + "/invoices/{id}GET")
        ])
    }

    /// An operation with its own endpointConfigurations gets rules only for those environments.
    @Test func ownEndpointsReplaceTheAPIsPerOperation() throws {
        let bundle = try bundle()
        func targets(_ environment: String) -> [String] {
            bundle.resources.filter { $0.kind == "HTTPRoute" && $0.name.contains("-\(environment)-") }
                .flatMap { $0.spec?["rules"]?.arrayValue ?? [] }
                .compactMap { $0["matches"]?.arrayValue?.first?["path"]?["value"]?.stringValue }
        }
        #expect(!targets("production").contains("/legacy"))
        #expect(targets("sandbox").contains("/legacy"))
    }

    /// The API-level APIPolicy targets the API in group dp.wso2.com.
    @Test func apiPolicyTargetsTheAPIInTheAPKGroup() throws {
        let policy = try resource("APIPolicy", "\(Self.apiID)-api-policy", in: try bundle())
        #expect(policy.spec?["targetRef"] == ["group": "dp.wso2.com", "kind": "API", "name": .string(Self.apiID)])
        #expect(policy.spec?["default"]?["subscriptionValidation"] == true)
    }

    /// Interceptors: Backend `backend-sha1("<org>-<name>-<version>-interceptor-<url>")-interceptor`, TLS from a
    /// ConfigMap (https only), `includes` always written (`[]` when nothing is enabled).
    @Test func interceptorsAsTheReferenceBuildsThem() throws {
        let bundle = try bundle()
        // sha1("default-Billing-1.0-interceptor-https://interceptor.example.com:9081")
        let requestBackend = "backend-26aec10729ad8fd1c135f2c6102c4eeb70e40877-interceptor"
        let backend = try resource("Backend", requestBackend, in: bundle)
        #expect(backend.spec?["tls"] == ["configMapRef": ["name": "interceptor-ca", "key": "ca.crt"]])
        let request = try resource("InterceptorService", "request-interceptor-service-0-\(Self.apiID)-api", in: bundle)
        #expect(request.spec?["backendRef"] == ["name": .string(requestBackend)])
        #expect(request.spec?["includes"] == ["request_headers"])
        // sha1("default-Billing-1.0-interceptor-http://audit.example.com")
        let responseBackend = "backend-1034c932eed7c0c8edb65431960043b276d9aff5-interceptor"
        #expect(try resource("Backend", responseBackend, in: bundle).spec?["tls"] == nil)
        let response = try resource("InterceptorService", "response-interceptor-service-0-\(Self.apiID)-api", in: bundle)
        #expect(response.spec?["includes"] == [])
    }

    /// Routes hold operations 8(n−1)+1 … 8n of the apk-conf whatever the environment: here the first eight have only
    /// a sandbox endpoint of their own, so the production route of the ninth is `-production-httproute-2`.
    @Test func routeNumbersFollowTheOperationsChunkEvenWhenAChunkIsEmpty() throws {
        let sandboxOnly = (1...8).map {
            "  - target: /s\($0)\n    verb: GET\n    endpointConfigurations:\n      sandbox:\n        - endpoint: http://s.example.com"
        }
        let conf = try ApkConfLoader().load(Data("""
            name: Chunks
            basePath: /chunks
            version: "1"
            type: REST
            endpointConfigurations:
              production:
                - endpoint: http://p.example.com
            operations:
            \(sandboxOnly.joined(separator: "\n"))
              - target: /p
                verb: GET
            """.utf8))
        let bundle = try CRBundleBuilder().build(conf: conf, definition: nil, organization: "default")
        let id = try #require(bundle.resources.first?.name)
        let routes = bundle.resources.filter { $0.kind == "HTTPRoute" }.map(\.name)
        #expect(routes == ["\(id)-production-httproute-2", "\(id)-sandbox-httproute-1"])
    }

    /// Two endpoints of one environment that the reference would give the same Backend name are refused.
    @Test func endpointsThatWouldShareABackendNameAreRefused() throws {
        let conf = try ApkConfLoader().load(Data("""
            name: Twins
            basePath: /twins
            version: "1"
            type: REST
            endpointConfigurations:
              production:
                - endpoint: http://twin.example.com:8080/api
                  weight: 50
                - endpoint: http://twin.example.com:9090/api
                  weight: 50
            operations:
              - target: /a
                verb: GET
            """.utf8))
        let error = #expect(throws: APKError.self) {
            try CRBundleBuilder().build(conf: conf, definition: nil, organization: "default")
        }
        #expect(error?.code == 909029)
    }
}
