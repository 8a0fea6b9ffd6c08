package import APKModel

/// The config service's own error constructors (codes of contract §2.1–2.2 plus ours; see README.md).
extension APKError {
    /// 90091 / 400: both or neither of `definition` and `url` were given.
    package static let specifyDefinitionOrURL = APKError(
        code: 90091, status: 400, message: "Specify either definition or url", definitionProblems: [])

    /// 909044 / 406: the `url` could not be fetched (bad scheme, unreachable, timeout, non-200, too large).
    package static func invalidDefinitionURL(_ detail: String) -> APKError {
        APKError(
            code: 909044, status: 406, message: "Invalid url provided for openapi definition",
            detail: "Invalid url provided for openapi definition: \(detail)")
    }

    /// 909018 / 406: a required multipart part is missing, or the multipart body itself is unusable.
    package static func invalidAPIRequest(_ detail: String) -> APKError {
        APKError(code: 909018, status: 406, message: "Invalid API request", detail: "Invalid API request: \(detail)")
    }
}
