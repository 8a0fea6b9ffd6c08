/// Request and response policies of an API or operation (contract §4.5).
package struct Policies: Sendable, Hashable, Codable {
    package var request: [Policy]?
    package var response: [Policy]?

    package init(request: [Policy]? = nil, response: [Policy]? = nil) {
        self.request = request
        self.response = response
    }

    package var isEmpty: Bool { (request ?? []).isEmpty && (response ?? []).isEmpty }
}

/// One policy; `parameters` keep their document shape (they were validated per `policyName`).
package struct Policy: Sendable, Hashable, Codable {
    package var policyName: Name
    package var policyVersion: String = "v1"
    package var policyId: String?
    package var parameters: JSONValue?

    package init(policyName: Name, parameters: JSONValue? = nil) {
        self.policyName = policyName
        self.parameters = parameters
    }

    package enum Name: String, Sendable, Hashable, Codable, CaseIterable {
        case addHeader = "AddHeader"
        case setHeader = "SetHeader"
        case removeHeader = "RemoveHeader"
        case interceptor = "Interceptor"
        case backendJwt = "BackendJwt"
        case requestMirror = "RequestMirror"
        case requestRedirect = "RequestRedirect"
        case modelBasedRoundRobin = "ModelBasedRoundRobin"
    }

    private enum CodingKeys: String, CodingKey { case policyName, policyVersion, policyId, parameters }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        policyName = try c.decode(Name.self, forKey: .policyName)
        policyVersion = try c.decodeIfPresent(String.self, forKey: .policyVersion) ?? "v1"
        policyId = try c.decodeIfPresent(String.self, forKey: .policyId)
        parameters = try c.decodeIfPresent(JSONValue.self, forKey: .parameters)
    }

    /// A string parameter, if present.
    package func string(_ key: String) -> String? { parameters?[key]?.stringValue }
    /// A boolean parameter, if present.
    package func bool(_ key: String) -> Bool? { parameters?[key]?.boolValue }
    /// An integer parameter, if present.
    package func int(_ key: String) -> Int? { parameters?[key]?.intValue }
}
