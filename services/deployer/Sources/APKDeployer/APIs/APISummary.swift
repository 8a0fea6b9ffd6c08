package import APKModel
package import APKStore
package import Foundation

/// What the list endpoints show of one deployed API, read from its stored `API` CR.
package struct APISummary: Sendable, Hashable {
    package var id: String
    package var name: String
    package var version: String
    package var type: String
    /// The full base path of the API CR (`<basePath>/<version>`), the gateway context.
    package var context: String
    package var organization: String
    /// The apk-conf `environment`, nil when the API has none (shown as JSON null).
    package var environment: String?
    package var createdAt: Date
    package var updatedAt: Date
    /// The API CR's generation and the status the adapter wrote (`status.deploymentStatus`), if any.
    package var generation: Int64
    package var deploymentStatus: JSONValue?

    /// The summary of a stored `API` resource; nil for other kinds or a spec without name and organization.
    package init?(_ stored: StoredResource) {
        guard stored.resource.kind == CRKind.api.rawValue, let spec = stored.resource.spec,
            let name = spec["apiName"]?.stringValue, let organization = spec["organization"]?.stringValue
        else { return nil }
        id = stored.resource.name
        self.name = name
        version = spec["apiVersion"]?.stringValue ?? ""
        type = spec["apiType"]?.stringValue ?? "REST"
        context = spec["basePath"]?.stringValue ?? ""
        self.organization = organization
        environment = spec["environment"]?.stringValue
        createdAt = stored.createdAt
        updatedAt = stored.updatedAt
        generation = stored.generation
        deploymentStatus = stored.status?["deploymentStatus"]
    }

    /// What the gateway made of this version of the API: the adapter's status when it describes this generation,
    /// else `Pending` (the router has not applied this deploy yet). Statuses are `Deployed`, `PartiallyDeployed`
    /// (served; `message` lists what is not) and `Failed` (not served; `message` says why).
    package var gatewayStatus: JSONValue {
        if let status = deploymentStatus, let observed = status["observedGeneration"]?.intValue, Int64(observed) >= generation {
            return [
                "status": status["status"] ?? "Unknown", "accepted": status["accepted"] ?? false,
                "message": status["message"] ?? "", "transitionTime": status["transitionTime"] ?? .null,
            ]
        }
        return ["status": "Pending", "accepted": false, "message": "the gateway has not applied this version yet",
                "transitionTime": .null]
    }

    /// The apk-conf base path: the context without its trailing `/<version>` (§5.2 appends the version).
    package var basePath: String {
        let suffix = "/\(version)"
        guard !version.isEmpty, context.hasSuffix(suffix), context.count > suffix.count else { return context }
        return String(context.dropLast(suffix.count))
    }

    /// An entry of `GET /api/deployer/apis`.
    package var deployerJSON: JSONValue {
        [
            "id": .string(id), "name": .string(name), "version": .string(version), "basePath": .string(basePath),
            "organization": .string(organization), "environment": environment.map(JSONValue.string) ?? .null,
            "updatedTime": .string(Self.timestamp(updatedAt)),
        ]
    }

    /// An entry of `GET /api/runtime/apis`.
    package var runtimeJSON: JSONValue {
        [
            "id": .string(id), "name": .string(name), "version": .string(version), "context": .string(context),
            "type": .string(type), "organization": .string(organization),
            "createdTime": .string(Self.timestamp(createdAt)), "updatedTime": .string(Self.timestamp(updatedAt)),
        ]
    }

    /// `GET /api/runtime/apis/{id}`: the list entry plus the gateway's status of this version.
    package var runtimeDetailJSON: JSONValue {
        guard case .object(var object) = runtimeJSON else { return runtimeJSON }
        object["deploymentStatus"] = gatewayStatus
        return .object(object)
    }

    /// `{"count":N,"list":[…]}`.
    package static func listBody(_ entries: [JSONValue]) -> JSONValue {
        ["count": .int(entries.count), "list": .array(entries)]
    }

    /// RFC 3339 UTC with seconds, e.g. `2025-01-31T12:00:00Z`.
    package static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
