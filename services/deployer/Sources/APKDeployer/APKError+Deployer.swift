package import APKModel
package import APKStore

/// The deployer's error constructors (contract §2.4, §3, §7.6, plus ours; listed in README.md).
extension APKError {
    /// 909001 / 404: no API with this id in the caller's organization (§3.3).
    package static func apiNotFound(_ id: String) -> APKError {
        let shown = id.count > 80 ? String(id.prefix(80)) + "…" : id
        return APKError(code: 909001, status: 404, message: "\(shown) not found")
    }

    /// 909015 / 406: the base path is already used by another API of the organization and environment.
    package static func basePathInvalid(_ basePath: String) -> APKError {
        APKError(
            code: 909015, status: 406, message: "API Base Path \(basePath) invalid",
            detail: "API Base Path \(basePath) invalid: it is already used by another API")
    }

    /// 909017 / 406: a required multipart part is missing, or the request cannot be used as given.
    package static func invalidAPIRequest(_ detail: String) -> APKError {
        APKError(code: 909017, status: 406, message: "Invalid API request", detail: "Invalid API request: \(detail)")
    }

    /// 909063 / 503 (ours): the control-plane database cannot be reached; retry later.
    package static let controlPlaneUnavailable = APKError(
        code: 909063, status: 503, message: "Control plane unavailable",
        detail: "The control-plane database is unavailable; retry later")

    /// 400 (ours, 909064): a required query parameter is missing or empty.
    package static func missingParameter(_ name: String) -> APKError {
        APKError(
            code: 909064, status: 400, message: "Missing required parameter",
            detail: "The query parameter \(name) is required")
    }

    /// 909065 / 409 (ours): the API id, or the name of a resource the API needs, belongs to another API or
    /// organization. The other owner is not named (it may be another organization's).
    package static func nameInUse(kind: String, name: String) -> APKError {
        APKError(
            code: 909065, status: 409, message: "Resource name in use",
            detail: "\(kind) \(name) is owned by another API or organization; change the apk-conf id, name or version")
    }

    /// The REST form of a store failure: 406 909015, 409 909065, 503 909063, or 500 909028.
    package static func store(_ error: StoreError) -> APKError {
        switch error {
        case .basePathConflict(_, let basePath): .basePathInvalid(basePath)
        case .apiOfAnotherOrganization(let id): .nameInUse(kind: "API", name: id)
        case .nameTaken(let kind, let name, _): .nameInUse(kind: kind, name: name)
        case .unavailable: .controlPlaneUnavailable
        case .corrupt, .failed:
            APKError(code: 909028, status: 500, message: "Internal error occured while deploying API")
        }
    }
}
