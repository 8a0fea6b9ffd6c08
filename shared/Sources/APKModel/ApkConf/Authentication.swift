/// One `authentication[]` block, discriminated by `authType` (contract §4.4), with the reference's code defaults.
package struct Authentication: Sendable, Hashable, Codable {
    package var authType: AuthType
    package var required: String?
    package var enabled: Bool = true
    package var sendTokenToUpstream: Bool?
    package var headerName: String?
    package var queryParamName: String?
    package var headerEnable: Bool?
    package var queryParamEnable: Bool?
    package var audience: [String]?
    package var certificates: [CertificateRef]?

    package init(authType: AuthType) {
        self.authType = authType
        applyDefaults()
    }

    package enum AuthType: String, Sendable, Hashable, Codable, CaseIterable {
        case oauth2 = "OAuth2"
        case jwt = "JWT"
        case apiKey = "APIKey"
        case mtls = "mTLS"
    }

    package struct CertificateRef: Sendable, Hashable, Codable {
        package var name: String
        package var key: String

        package init(name: String, key: String) {
            self.name = name
            self.key = key
        }
    }

    private enum CodingKeys: String, CodingKey {
        case authType, required, enabled, sendTokenToUpstream, headerName, queryParamName, headerEnable,
            queryParamEnable, audience, certificates
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        authType = try c.decode(AuthType.self, forKey: .authType)
        required = try c.decodeIfPresent(String.self, forKey: .required)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        sendTokenToUpstream = try c.decodeIfPresent(Bool.self, forKey: .sendTokenToUpstream)
        headerName = try c.decodeIfPresent(String.self, forKey: .headerName)
        queryParamName = try c.decodeIfPresent(String.self, forKey: .queryParamName)
        headerEnable = try c.decodeIfPresent(Bool.self, forKey: .headerEnable)
        queryParamEnable = try c.decodeIfPresent(Bool.self, forKey: .queryParamEnable)
        audience = try c.decodeIfPresent([String].self, forKey: .audience)
        certificates = try c.decodeIfPresent([CertificateRef].self, forKey: .certificates)
        applyDefaults()
    }

    /// The defaults of the reference's record types (§4.4): they apply when a field is absent.
    private mutating func applyDefaults() {
        switch authType {
        case .oauth2:
            required = required ?? "mandatory"
            sendTokenToUpstream = sendTokenToUpstream ?? false
            headerName = headerName ?? "Authorization"
            headerEnable = headerEnable ?? true
        case .jwt:
            required = required ?? "mandatory"
            sendTokenToUpstream = sendTokenToUpstream ?? false
            headerName = headerName ?? "Authorization"
            headerEnable = headerEnable ?? true
            audience = audience ?? []
        case .apiKey:
            required = required ?? "optional"
            sendTokenToUpstream = sendTokenToUpstream ?? false
            headerName = headerName ?? "apiKey"
            queryParamName = queryParamName ?? "apiKey"
            headerEnable = headerEnable ?? true
            queryParamEnable = queryParamEnable ?? false
        case .mtls:
            required = required ?? "optional"
        }
    }
}
