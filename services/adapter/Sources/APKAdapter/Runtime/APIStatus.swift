package import APKModel
package import Foundation

/// The desired status of an API CR (`status.deploymentStatus`), as the adapter sees the API on the gateway.
package struct APIStatus: Sendable, Hashable {
    package var accepted: Bool
    package var status: String
    package var message: String
    /// The API CR's `metadata.generation` this status describes (Kubernetes' `observedGeneration`): a reader whose
    /// API has a newer generation knows the status is not about its last deploy yet.
    package var observedGeneration: Int64?

    package init(accepted: Bool, status: String, message: String, observedGeneration: Int64? = nil) {
        self.accepted = accepted
        self.status = status
        self.message = message
        self.observedGeneration = observedGeneration
    }

    package static func failed(_ message: String) -> APIStatus {
        APIStatus(accepted: false, status: "Failed", message: message)
    }

    /// The status of a translated API: Deployed, PartiallyDeployed (served, with problems) or Failed (not served).
    static func of(_ translation: APITranslation, unscoped: [String] = []) -> APIStatus {
        var problems = translation.problems
        if !unscoped.isEmpty {
            problems.append(
                "not routable at the root path (the first path segment must be literal): " + unscoped.joined(separator: ", "))
        }
        switch (translation.api != nil && !(translation.api?.environments.isEmpty ?? true), problems.isEmpty) {
        case (true, true):
            return APIStatus(accepted: true, status: "Deployed", message: "routable on the gateway")
        case (true, false):
            return APIStatus(accepted: true, status: "PartiallyDeployed", message: problems.joined(separator: "; "))
        case (false, _):
            return .failed(problems.joined(separator: "; "))
        }
    }

    /// The status document, with the transition time.
    package func document(at time: Date) -> JSONValue {
        let formatter = ISO8601DateFormatter()
        var deployment = JSONObject([
            ("status", .string(status)),
            ("accepted", .bool(accepted)),
            ("message", .string(message)),
            ("transitionTime", .string(formatter.string(from: time))),
        ])
        if let observedGeneration { deployment["observedGeneration"] = .int(Int(observedGeneration)) }
        return .object(JSONObject([("deploymentStatus", .object(deployment))]))
    }

    /// True when `stored` (an API CR's status) already says the same (ignoring the transition time).
    package func matches(_ stored: JSONValue?) -> Bool {
        guard let deployment = stored?["deploymentStatus"] else { return false }
        return deployment["accepted"]?.boolValue == accepted && deployment["status"]?.stringValue == status
            && deployment["message"]?.stringValue == message
            && deployment["observedGeneration"]?.intValue.map(Int64.init) == observedGeneration
    }
}
