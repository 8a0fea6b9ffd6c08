/// A Kubernetes object as APK writes it: `apiVersion`, `kind`, `metadata`, then kind-specific content.
///
/// The content is kept as an ordered ``JSONValue`` built from the typed CRD structs (``APISpec``, ``BackendSpec``, …)
/// so that every resource, whatever its kind, renders to byte-stable YAML and can be stored as one row.
package struct K8sResource: Sendable, Hashable {
    package var apiVersion: String
    package var kind: String
    package var metadata: ObjectMeta
    /// Top-level members after `metadata` (`spec`, or `binaryData`/`data` for ConfigMaps), in order.
    package var body: JSONObject

    package init(apiVersion: String, kind: String, metadata: ObjectMeta, body: JSONObject) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.body = body
    }

    /// A resource whose body is `spec: <encoded spec>`.
    package init(apiVersion: String, kind: String, metadata: ObjectMeta, spec: some Encodable) throws {
        self.init(apiVersion: apiVersion, kind: kind, metadata: metadata, body: JSONObject([("spec", try JSONValueCoding.encode(spec))]))
    }

    package var name: String { metadata.name }
    package var spec: JSONValue? { body["spec"] }

    /// The whole object as a document.
    package var jsonValue: JSONValue {
        var object = JSONObject()
        object["apiVersion"] = .string(apiVersion)
        object["kind"] = .string(kind)
        object["metadata"] = (try? JSONValueCoding.encode(metadata)) ?? .null
        for (key, value) in body { object[key] = value }
        return .object(object)
    }

    /// File name inside the generate-k8s-resources zip (§2.2).
    package var fileName: String { "\(metadata.name).yaml" }
}

/// Kubernetes object metadata, limited to what APK writes.
package struct ObjectMeta: Sendable, Hashable, Codable {
    package var name: String
    package var namespace: String?
    package var labels: [Label]?
    package var annotations: [Label]?
    package var ownerReferences: [OwnerReference]?

    package init(name: String, namespace: String? = nil, labels: [Label]? = nil, annotations: [Label]? = nil,
                 ownerReferences: [OwnerReference]? = nil) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        self.ownerReferences = ownerReferences
    }

    /// One label or annotation; a list (not a dictionary) so output order is fixed.
    package struct Label: Sendable, Hashable {
        package var key: String
        package var value: String
        package init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    package func label(_ key: String) -> String? { labels?.first { $0.key == key }?.value }

    private enum CodingKeys: String, CodingKey { case name, namespace, labels, annotations, ownerReferences }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(namespace, forKey: .namespace)
        if let labels { try c.encode(Self.object(labels), forKey: .labels) }
        if let annotations { try c.encode(Self.object(annotations), forKey: .annotations) }
        try c.encodeIfPresent(ownerReferences, forKey: .ownerReferences)
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        namespace = try c.decodeIfPresent(String.self, forKey: .namespace)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels)?.sorted { $0.key < $1.key }
            .map { Label($0.key, $0.value) }
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations)?.sorted { $0.key < $1.key }
            .map { Label($0.key, $0.value) }
        ownerReferences = try c.decodeIfPresent([OwnerReference].self, forKey: .ownerReferences)
    }

    private static func object(_ labels: [Label]) -> JSONValue {
        .object(JSONObject(labels.map { ($0.key, JSONValue.string($0.value)) }))
    }
}

/// `metadata.ownerReferences[]`: children of an API point at their API CR so deleting it removes them.
package struct OwnerReference: Sendable, Hashable, Codable {
    package var apiVersion: String
    package var kind: String
    package var name: String
    package var uid: String?
    package var controller: Bool?
    package var blockOwnerDeletion: Bool?

    package init(apiVersion: String, kind: String, name: String, uid: String? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
    }
}

/// Everything one apk-conf deploys: the API CR first, then its children in the order APK creates them (§3.2).
package struct CRBundle: Sendable, Hashable {
    /// The API CR's name (the API id).
    package var apiID: String
    package var organization: String
    package var resources: [K8sResource]

    package init(apiID: String, organization: String, resources: [K8sResource]) {
        self.apiID = apiID
        self.organization = organization
        self.resources = resources
    }
}
