import APKModel
import Foundation

/// Working state of one ``CRBundleBuilder/build(conf:definition:organization:)`` call: the API's identity, the
/// naming rules of §5.2, and the children collected so far, grouped in the order APK creates them (§3.2 step 5).
struct BundleContext {
    let conf: ApkConf
    let organization: String
    let options: CRBundleBuilder.Options
    let apiID: String
    /// `sha1("<org>-<name>-<version>")`, the stem of Authentication, InterceptorService and BackendJWT names.
    let apiHash: String

    /// Child categories in creation order.
    enum Category: Int, CaseIterable {
        case configMap, scope, backend, authentication, rateLimitPolicy, aiRateLimitPolicy, interceptorService,
            backendJWT, apiPolicy, productionRoute, sandboxRoute
    }

    private var children: [Category: [K8sResource]] = [:]
    private var names: Set<String> = []
    /// Scope name → Scope CR name, first operation wins (§5.2: reused across operations).
    var scopeResources: [String: String] = [:]
    /// API-level Backend name → the canonical JSON of the endpoint it was made for (names leave settings out).
    var apiBackendConfigurations: [String: String] = [:]

    init(conf: ApkConf, organization: String, options: CRBundleBuilder.Options) {
        self.conf = conf
        self.organization = organization
        self.options = options
        apiID = CRBundleBuilder.apiID(for: conf, organization: organization)
        apiHash = Hashing.sha1("\(organization)-\(conf.name)-\(conf.version)")
    }

    // MARK: metadata

    /// Labels of every generated CR (§3.4).
    var labels: [ObjectMeta.Label] {
        [
            .init("api-name", Hashing.sha1(conf.name)),
            .init("api-version", Hashing.sha1(conf.version)),
            .init("organization", Hashing.sha1(organization)),
            .init("managed-by", "apk"),
        ]
    }

    func metadata(_ name: String) -> ObjectMeta {
        var owner: [OwnerReference]?
        if let uid = options.ownerUID {
            var reference = OwnerReference(apiVersion: CRKind.api.apiVersion, kind: CRKind.api.rawValue, name: apiID, uid: uid)
            reference.controller = true
            reference.blockOwnerDeletion = true
            owner = [reference]
        }
        return ObjectMeta(name: name, namespace: options.namespace, labels: labels, ownerReferences: owner)
    }

    /// `sha1(target + verb)`, the per-operation stem (§5.2).
    func operationHash(_ operation: ApkConf.Operation) -> String { Hashing.sha1(operation.target + operation.verb) }

    // MARK: collecting children

    /// Adds a child once; a second resource with the same kind and name is the same resource (deduplicated).
    @discardableResult
    mutating func add(_ category: Category, kind: CRKind, name: String, spec: some Encodable) throws(APKError) -> String {
        let key = "\(kind.rawValue)/\(name)"
        guard names.insert(key).inserted else { return name }
        do {
            let resource = try K8sResource(apiVersion: kind.apiVersion, kind: kind.rawValue, metadata: metadata(name), spec: spec)
            children[category, default: []].append(resource)
        } catch {
            throw .generationFailed("could not encode \(kind.rawValue) \(name): \(error)")
        }
        return name
    }

    mutating func add(_ category: Category, resource: K8sResource) {
        guard names.insert("\(resource.kind)/\(resource.name)").inserted else { return }
        children[category, default: []].append(resource)
    }

    func orderedChildren() -> [K8sResource] {
        Category.allCases.flatMap { children[$0] ?? [] }
    }

    // MARK: definition ConfigMap

    mutating func addDefinition(_ definition: Data) throws(APKError) {
        let compressed: Data
        do {
            compressed = try Gzip.compress(definition)
        } catch {
            throw .generationFailed("could not compress the API definition: \(error)")
        }
        let body = JSONObject([("binaryData", .object(JSONObject([("definition", .string(compressed.base64EncodedString()))])))])
        add(.configMap, resource: K8sResource(apiVersion: CRKind.configMap.apiVersion, kind: CRKind.configMap.rawValue,
                                             metadata: metadata(definitionName), body: body))
    }

    var definitionName: String { "\(apiID)-definition" }

    // MARK: API CR

    func apiResource(routeRefs: [DeploymentEnvironment: [String]]) throws(APKError) -> K8sResource {
        let production = routeRefs[.production] ?? []
        let sandbox = routeRefs[.sandbox] ?? []
        guard !production.isEmpty || !sandbox.isEmpty else {
            throw .generationFailed("the API has no production or sandbox routes")
        }
        let spec = APISpec(
            apiName: conf.name,
            apiVersion: conf.version,
            apiType: "REST",
            basePath: fullBasePath,
            isDefaultVersion: conf.defaultVersion,
            organization: organization,
            definitionPath: conf.definitionPath ?? "/api-definition",
            environment: conf.environment,
            definitionFileRef: definitionName,
            production: production.isEmpty ? nil : [.init(routeRefs: production)],
            sandbox: sandbox.isEmpty ? nil : [.init(routeRefs: sandbox)],
            apiProperties: conf.additionalProperties.map { $0.map { .init(name: $0.name, value: $0.value) } })
        var meta = metadata(apiID)
        meta.ownerReferences = nil
        if let id = conf.id { meta.annotations = [.init("wso2apk/api-uuid", id)] }
        do {
            return try K8sResource(apiVersion: CRKind.api.apiVersion, kind: CRKind.api.rawValue, metadata: meta, spec: spec)
        } catch {
            throw .generationFailed("could not encode the API CR: \(error)")
        }
    }

    /// `basePath + "/" + version` unless the base path already ends with the version (§5.2).
    var fullBasePath: String {
        var base = conf.basePath
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/\(conf.version)") { return base }
        return base == "/" ? "/\(conf.version)" : "\(base)/\(conf.version)"
    }

    /// Hostnames of one environment: `<org>[-<environment>].<vhost>` per configured vhost (§5.4).
    func hostnames(for environment: DeploymentEnvironment) -> [String] {
        let vhosts = environment == .production ? options.productionVhosts : options.sandboxVhosts
        let prefix = conf.environment.map { "\(organization)-\($0)" } ?? organization
        return vhosts.map { "\(prefix).\($0)" }
    }
}
