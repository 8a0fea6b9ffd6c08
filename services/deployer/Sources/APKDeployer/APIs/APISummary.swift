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

    /// `{"count":N,"list":[…]}`.
    package static func listBody(_ entries: [JSONValue]) -> JSONValue {
        ["count": .int(entries.count), "list": .array(entries)]
    }

    /// RFC 3339 UTC with seconds, e.g. `2025-01-31T12:00:00Z`.
    package static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
