package import APKModel

/// An API's CORS (contract §4.7, §7.8), compiled into Envoy's `cors` filter in both enforcement modes: the API's
/// `APIPolicy` `cORSPolicy` when it has one, else the gateway's default (``gatewayDefault``).
package struct CORSPlan: Sendable, Hashable, Codable {
    package var enabled: Bool
    /// Allowed `Origin` values; `*` allows any.
    package var allowOrigins: [String]
    package var allowMethods: [String]
    package var allowHeaders: [String]
    package var exposeHeaders: [String]
    package var allowCredentials: Bool
    /// `Access-Control-Max-Age` in seconds (nil: not sent).
    package var maxAgeSeconds: Int?

    package init(
        enabled: Bool, allowOrigins: [String], allowMethods: [String], allowHeaders: [String], exposeHeaders: [String],
        allowCredentials: Bool, maxAgeSeconds: Int?
    ) {
        self.enabled = enabled
        self.allowOrigins = allowOrigins
        self.allowMethods = allowMethods
        self.allowHeaders = allowHeaders
        self.exposeHeaders = exposeHeaders
        self.allowCredentials = allowCredentials
        self.maxAgeSeconds = maxAgeSeconds
    }

    /// The reference gateway's default for APIs without a CORS policy (its helm `enforcer.cors`): enabled, any origin,
    /// the usual methods, the credential headers, nothing exposed but `*`, no credentials.
    package static let gatewayDefault = CORSPlan(
        enabled: true, allowOrigins: ["*"], allowMethods: ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
        allowHeaders: ["authorization", "Access-Control-Allow-Origin", "Content-Type", "Internal-key", "apiKey"],
        exposeHeaders: ["*"], allowCredentials: false, maxAgeSeconds: nil)

    /// From an `APIPolicy` `cORSPolicy`; throws when a value cannot be put in a response header.
    package init(policy: APIPolicySpec.CORSPolicy) throws(AuthPlanError) {
        let lists = [
            ("accessControlAllowOrigins", policy.accessControlAllowOrigins ?? []),
            ("accessControlAllowMethods", policy.accessControlAllowMethods ?? []),
            ("accessControlAllowHeaders", policy.accessControlAllowHeaders ?? []),
            ("accessControlExposeHeaders", policy.accessControlExposeHeaders ?? []),
        ]
        for (field, values) in lists {
            guard values.count <= 100, values.allSatisfy(Self.isHeaderValueItem) else {
                throw AuthPlanError("CORS \(field) holds a value that is not a plain header list item")
            }
        }
        if let maxAge = policy.accessControlMaxAge, maxAge < 0 {
            throw AuthPlanError("CORS accessControlMaxAge is negative")
        }
        self.init(
            enabled: policy.enabled, allowOrigins: lists[0].1, allowMethods: lists[1].1, allowHeaders: lists[2].1,
            exposeHeaders: lists[3].1, allowCredentials: policy.accessControlAllowCredentials ?? false,
            maxAgeSeconds: policy.accessControlMaxAge)
    }

    /// Printable ASCII without `,` (the list separator), 1…512 characters.
    static func isHeaderValueItem(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= 512 && value.utf8.allSatisfy { (0x20...0x7E).contains($0) && $0 != UInt8(ascii: ",") }
    }
}
