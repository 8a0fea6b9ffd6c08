package import APKModel

// The YAML faces of model types, here rather than in APKModel so that the data plane never links Yams.

extension K8sResource {
    /// YAML of this one object (no leading `---`).
    package func yaml() -> String { DocumentWriter.yaml(jsonValue) }
}

extension CRBundle {
    /// All resources as one multi-document YAML stream (for `kubectl apply -f -`).
    package func yamlStream() -> String { DocumentWriter.yamlStream(resources.map(\.jsonValue)) }
}

extension APKError {
    /// 909029 / 400 for an apk-conf that is not readable JSON/YAML at all.
    package static func unreadableApkConf(_ failure: DocumentParser.Failure) -> APKError {
        if case .tooLarge(let limit) = failure { return .payloadTooLarge(limit: limit) }
        return .invalidApkConf([ValidationIssue(pointer: "#", message: failure.description)])
    }
}
