package import APKModel

/// What a translation reads from the watched namespace: resources by (kind, name), and the policies that attach to an
/// API through their `spec.targetRef` (API-level `Authentication`, `APIPolicy`, …), which no API field names.
package struct ResourceLookup: Sendable {
    /// The resource of that kind and name.
    package var resource: @Sendable (ReferenceKey) -> K8sResource?
    /// Resources of `kind` whose `spec.targetRef` is the API named `api` (kind `API`), sorted by name.
    package var targeting: @Sendable (_ kind: String, _ api: String) -> [K8sResource]
    /// Every resource of a kind-wide kind (``ReferenceKey/kindWideKinds``: the subscription data), sorted by name.
    package var ofKind: @Sendable (_ kind: String) -> [K8sResource]

    package init(
        resource: @escaping @Sendable (ReferenceKey) -> K8sResource?,
        targeting: @escaping @Sendable (_ kind: String, _ api: String) -> [K8sResource],
        ofKind: @escaping @Sendable (_ kind: String) -> [K8sResource] = { _ in [] }
    ) {
        self.resource = resource
        self.targeting = targeting
        self.ofKind = ofKind
    }

    /// A lookup over a fixed set of resources (tests, `generate-k8s-resources` bundles).
    package init(_ resources: [K8sResource]) {
        var byKey: [ReferenceKey: K8sResource] = [:]
        for resource in resources { byKey[ReferenceKey(kind: resource.kind, name: resource.name)] = resource }
        let table = byKey
        self.init(
            resource: { table[$0] },
            targeting: { kind, api in
                table.values.filter { $0.kind == kind && Self.targetAPI(of: $0) == api }.sorted { $0.name < $1.name }
            },
            ofKind: { kind in table.values.filter { $0.kind == kind }.sorted { $0.name < $1.name } })
    }

    /// The API a policy attaches to through `spec.targetRef` (kind `API`), nil for any other resource.
    package static func targetAPI(of resource: K8sResource) -> String? {
        guard let ref = resource.spec?.objectValue?["targetRef"]?.objectValue, ref["kind"]?.stringValue == "API"
        else { return nil }
        return ref["name"]?.stringValue
    }
}

extension ReferenceKey {
    /// The set of `kind` resources attached to the API `api` by `targetRef`, as one reference: the translation of
    /// `api` read it, so adding, changing or removing such a resource translates `api` again.
    package static func targeting(_ kind: String, api: String) -> ReferenceKey {
        ReferenceKey(kind: kind + "@API", name: api)
    }

    /// Every resource of `kind`, as one reference: an API whose translation reads all of them (the subscription data
    /// of subscription validation) is translated again when any of them changes.
    package static func all(_ kind: String) -> ReferenceKey { ReferenceKey(kind: kind + "@*", name: "*") }

    /// The kinds read as a whole (``all(_:)``): the control-plane subscription data and the token issuers (an
    /// API trusts the issuers of its organization and environment, which no API field names).
    package static let kindWideKinds: Set<String> = [
        CRKind.application.rawValue, CRKind.subscription.rawValue, CRKind.applicationMapping.rawValue,
        CRKind.tokenIssuer.rawValue,
    ]

    /// The kind when this is an ``all(_:)`` reference.
    var allOfKind: String? { kind.hasSuffix("@*") ? String(kind.dropLast(2)) : nil }

    /// `(kind, api)` when this is a ``targeting(_:api:)`` reference.
    var targetingParts: (kind: String, api: String)? {
        guard kind.hasSuffix("@API") else { return nil }
        return (String(kind.dropLast(4)), name)
    }
}
