import APKModel
import APKStore
import APKTestSupport
import Foundation
import APKConversion

/// Bundles for store tests: small hand-built ones (full control over names, base paths and content) and the
/// apk-conf fixtures of `test/fixtures/bundles` built by ``CRBundleBuilder``.
enum TestBundles {
    /// An API CR plus `children` (kind, name-suffix) resources; `revision` changes every spec, so two revisions of
    /// the same API differ in every resource.
    static func make(id: String, organization: String = "default", basePath: String? = nil, environment: String? = nil,
                     revision: Int = 1, children: [(kind: CRKind, suffix: String)] = defaultChildren) -> CRBundle {
        var spec = JSONObject()
        spec["apiName"] = .string("API \(id)")
        spec["apiVersion"] = "1.0.0"
        spec["basePath"] = .string(basePath ?? "/\(id)")
        spec["organization"] = .string(organization)
        if let environment { spec["environment"] = .string(environment) }
        spec["production"] = .array(children.filter { $0.kind == .httpRoute }.map { ["routeRefs": [.string("\(id)-\($0.suffix)")]] })
        spec["revision"] = .int(revision)
        let labels = [ObjectMeta.Label("managed-by", "apk"), ObjectMeta.Label("api-name", Hashing.sha1(id))]
        let api = K8sResource(
            apiVersion: CRKind.api.apiVersion, kind: CRKind.api.rawValue, metadata: ObjectMeta(name: id, labels: labels),
            body: JSONObject([("spec", .object(spec))]))
        let resources = children.map { child in
            K8sResource(
                apiVersion: child.kind.apiVersion, kind: child.kind.rawValue,
                metadata: ObjectMeta(name: "\(id)-\(child.suffix)", labels: labels),
                body: body(for: child.kind, suffix: child.suffix, revision: revision))
        }
        return CRBundle(apiID: id, organization: organization, resources: [api] + resources)
    }

    static let defaultChildren: [(kind: CRKind, suffix: String)] = [
        (.configMap, "definition"), (.scope, "scope"), (.backend, "backend"), (.httpRoute, "route-1"), (.httpRoute, "route-2"),
    ]

    private static func body(for kind: CRKind, suffix: String, revision: Int) -> JSONObject {
        switch kind {
        case .configMap:
            return JSONObject([("binaryData", ["definition": .string(Data("openapi r\(revision)".utf8).base64EncodedString())])])
        default:
            // Keys deliberately out of order and nested, to exercise canonical storage.
            let spec: JSONValue = [
                "zeta": .int(revision), "alpha": ["nested": ["b": .double(2.5), "a": .string(suffix)], "list": [3, 1, 2]],
                "flag": true, "nothing": nil, "text": "ünïcødé \"quoted\" \n line",
            ]
            return JSONObject([("spec", spec)])
        }
    }

    /// A bundle built from `test/fixtures/bundles/<name>.apk-conf.yaml`.
    /// `withoutID` drops the apk-conf's `id`, so that the API id derives from the organization.
    static func fixture(_ name: String, organization: String = "default", withoutID: Bool = false) throws -> CRBundle {
        var conf = try ApkConfLoader().load(Fixtures.data("bundles/\(name).apk-conf.yaml"))
        if withoutID { conf.id = nil }
        return try CRBundleBuilder().build(conf: conf, definition: nil, organization: organization)
    }

    static let fixtureNames = ["employee", "full", "ai"]

    /// What a store must hold for `bundle` applied in `namespace` with API uid `uid` (resources only, in order).
    static func expected(_ bundle: CRBundle, namespace: String, uid: String) -> [K8sResource] {
        let reference = [StoredContent.ownerReference(apiID: bundle.apiID, uid: uid)]
        return bundle.resources.enumerated().map { index, resource in
            StoredContent.normalized(resource, namespace: namespace, ownerReferences: index == 0 ? resource.metadata.ownerReferences : reference)
        }
    }

    /// A copy of `bundle` whose object keys are in reverse order (same content).
    static func reordered(_ bundle: CRBundle) -> CRBundle {
        var copy = bundle
        copy.resources = bundle.resources.map { resource in
            var resource = resource
            resource.body = reverse(resource.body)
            resource.metadata.labels = resource.metadata.labels?.reversed()
            return resource
        }
        return copy
    }

    private static func reverse(_ object: JSONObject) -> JSONObject {
        JSONObject(object.entries.reversed().map { entry in
            if case .object(let inner) = entry.value { return (entry.key, .object(reverse(inner))) }
            return (entry.key, entry.value)
        })
    }
}
