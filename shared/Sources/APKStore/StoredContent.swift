package import APKModel

/// The stored form of a resource, shared by both backends so that they return identical values.
///
/// Object keys are sorted (recursively), as a Kubernetes API server and PostgreSQL `jsonb` return them; labels and
/// annotations are sorted by key and empty ones dropped; `metadata.namespace` is the store namespace. Arrays keep
/// their order. Change detection compares these canonical forms, so key order alone is never a change.
package enum StoredContent {
    /// `apiVersion` of the API CR, written into children's ownerReferences.
    package static let ownerAPIVersion = CRKind.api.apiVersion

    /// The value with every object's keys sorted.
    package static func canonical(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object): .object(canonical(object))
        case .array(let elements): .array(elements.map(canonical))
        default: value
        }
    }

    package static func canonical(_ object: JSONObject) -> JSONObject {
        JSONObject(object.entries.sorted { $0.key < $1.key }.map { ($0.key, canonical($0.value)) })
    }

    /// The ownerReference every child of an API carries (contract §3.2, controller reference).
    package static func ownerReference(apiID: String, uid: String) -> OwnerReference {
        var reference = OwnerReference(apiVersion: ownerAPIVersion, kind: CRKind.api.rawValue, name: apiID, uid: uid)
        reference.controller = true
        reference.blockOwnerDeletion = true
        return reference
    }

    /// `resource` as stored in `namespace`, with the given ownerReferences (nil keeps none).
    package static func normalized(_ resource: K8sResource, namespace: String, ownerReferences: [OwnerReference]?) -> K8sResource {
        var metadata = resource.metadata
        metadata.namespace = namespace
        metadata.labels = sortedLabels(metadata.labels)
        metadata.annotations = sortedLabels(metadata.annotations)
        metadata.ownerReferences = (ownerReferences?.isEmpty ?? true) ? nil : ownerReferences
        return K8sResource(apiVersion: resource.apiVersion, kind: resource.kind, metadata: metadata, body: canonical(resource.body))
    }

    private static func sortedLabels(_ labels: [ObjectMeta.Label]?) -> [ObjectMeta.Label]? {
        guard let labels, !labels.isEmpty else { return nil }
        var byKey: [String: String] = [:]
        for label in labels { byKey[label.key] = label.value }
        return byKey.sorted { $0.key < $1.key }.map { ObjectMeta.Label($0.key, $0.value) }
    }

    /// The status as stored (keys sorted; JSON null is no status).
    package static func normalizedStatus(_ status: JSONValue?) -> JSONValue? {
        guard let status, status != .null else { return nil }
        return canonical(status)
    }

    // MARK: JSON ↔ metadata

    /// `metadata` as a JSON object (keys sorted).
    package static func metadataJSON(_ metadata: ObjectMeta) -> JSONValue {
        var object = JSONObject()
        object["name"] = .string(metadata.name)
        if let namespace = metadata.namespace { object["namespace"] = .string(namespace) }
        if let labels = metadata.labels { object["labels"] = labelsJSON(labels) }
        if let annotations = metadata.annotations { object["annotations"] = labelsJSON(annotations) }
        if let references = metadata.ownerReferences { object["ownerReferences"] = .array(references.map(referenceJSON)) }
        return canonical(.object(object))
    }

    /// Labels as a JSON object (`{}` when there are none).
    package static func labelsJSON(_ labels: [ObjectMeta.Label]?) -> JSONValue {
        .object(JSONObject((labels ?? []).map { ($0.key, JSONValue.string($0.value)) }))
    }

    private static func referenceJSON(_ reference: OwnerReference) -> JSONValue {
        var object = JSONObject()
        object["apiVersion"] = .string(reference.apiVersion)
        object["kind"] = .string(reference.kind)
        object["name"] = .string(reference.name)
        if let uid = reference.uid { object["uid"] = .string(uid) }
        if let controller = reference.controller { object["controller"] = .bool(controller) }
        if let block = reference.blockOwnerDeletion { object["blockOwnerDeletion"] = .bool(block) }
        return .object(object)
    }

    /// Reads metadata written by ``metadataJSON(_:)``.
    package static func objectMeta(from value: JSONValue) throws(StoreError) -> ObjectMeta {
        guard let object = value.objectValue, let name = object["name"]?.stringValue else {
            throw .corrupt("metadata without a name")
        }
        var metadata = ObjectMeta(name: name, namespace: object["namespace"]?.stringValue)
        metadata.labels = try labels(object["labels"])
        metadata.annotations = try labels(object["annotations"])
        if let references = object["ownerReferences"]?.arrayValue {
            metadata.ownerReferences = try references.map(ownerReference(from:))
        }
        return metadata
    }

    private static func labels(_ value: JSONValue?) throws(StoreError) -> [ObjectMeta.Label]? {
        guard let value, value != .null else { return nil }
        guard let object = value.objectValue else { throw .corrupt("labels are not an object") }
        var labels: [ObjectMeta.Label] = []
        for (key, entry) in object {
            guard let text = entry.stringValue else { throw .corrupt("label \(key) is not a string") }
            labels.append(ObjectMeta.Label(key, text))
        }
        return labels.isEmpty ? nil : labels.sorted { $0.key < $1.key }
    }

    private static func ownerReference(from value: JSONValue) throws(StoreError) -> OwnerReference {
        guard let apiVersion = value["apiVersion"]?.stringValue, let kind = value["kind"]?.stringValue,
            let name = value["name"]?.stringValue
        else { throw .corrupt("incomplete ownerReference") }
        var reference = OwnerReference(apiVersion: apiVersion, kind: kind, name: name, uid: value["uid"]?.stringValue)
        reference.controller = value["controller"]?.boolValue
        reference.blockOwnerDeletion = value["blockOwnerDeletion"]?.boolValue
        return reference
    }

    // MARK: text

    /// Compact JSON text of a value (what the Postgres store binds as `jsonb`).
    package static func text(_ value: JSONValue) -> String { DocumentWriter.json(value) }

    /// Parses stored JSON text; `what` names the column in the error.
    package static func parse(_ text: String, what: String) throws(StoreError) -> JSONValue {
        do {
            return try JSONParser.parse(Array(text.utf8))
        } catch {
            throw .corrupt("\(what) is not valid JSON (offset \(error.offset))")
        }
    }

    /// A resource from its stored parts (`body` is the `spec` column: `{"spec": …}` or `{"binaryData": …}`).
    package static func resource(apiVersion: String, kind: String, metadata: JSONValue, body: JSONValue) throws(StoreError) -> K8sResource {
        guard let bodyObject = body.objectValue else { throw .corrupt("the body of \(kind) is not an object") }
        return K8sResource(
            apiVersion: apiVersion, kind: kind, metadata: try objectMeta(from: metadata), body: canonical(bodyObject))
    }

    /// A resource from a whole object (`apiVersion`, `kind`, `metadata`, then the body members).
    package static func resource(fromObject value: JSONValue) throws(StoreError) -> K8sResource {
        guard var object = value.objectValue, let apiVersion = object["apiVersion"]?.stringValue,
            let kind = object["kind"]?.stringValue, let metadata = object["metadata"]
        else { throw .corrupt("an event object lacks apiVersion, kind or metadata") }
        object["apiVersion"] = nil
        object["kind"] = nil
        object["metadata"] = nil
        return try resource(apiVersion: apiVersion, kind: kind, metadata: metadata, body: .object(object))
    }
}
