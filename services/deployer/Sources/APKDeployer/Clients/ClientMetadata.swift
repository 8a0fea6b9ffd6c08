import APKModel
import Foundation

/// The client metadata of a registration or update body (`POST`/`PUT /dcr/register…`), validated: the reference's
/// checks in its order (name, grant list, each grant), then ours (types, lengths, counts, URI and scope syntax).
/// Unknown members are ignored (RFC 7591 §2); lists are kept in order without repeats.
package struct ClientMetadata: Sendable, Hashable {
    /// `client_name`.
    package var name: String
    /// `grant_types`, each one of ``TokenIssuer/knownGrants``.
    package var grantTypes: [String]
    /// `redirect_uris`: absolute http(s) URIs without a fragment.
    package var redirectURIs: [String]
    /// The scopes the client may be granted (``OAuthClient/allowedScopes``); `*` means any but `apk:admin`.
    package var scopes: [String]

    /// Longest `client_name`, in characters.
    package static let maxNameLength = 255
    /// Most grant types.
    package static let maxGrantTypes = 8
    /// Most redirect URIs.
    package static let maxRedirectURIs = 16
    /// Longest redirect URI, in bytes.
    package static let maxRedirectURILength = 2048
    /// Most scopes (as many as a token may carry).
    package static var maxScopes: Int { TokenIssuer.maxScopes }

    /// Metadata as given (not validated: ``parse(_:)`` validates).
    package init(name: String, grantTypes: [String], redirectURIs: [String] = [], scopes: [String] = []) {
        self.name = name
        self.grantTypes = grantTypes
        self.redirectURIs = redirectURIs
        self.scopes = scopes
    }

    /// Parses and validates a JSON body.
    package static func parse(_ bytes: [UInt8]) throws(ClientRegistrationError) -> ClientMetadata {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes, maxDepth: 4)
        } catch {
            throw .invalidMetadata("The request body must be a JSON object")
        }
        guard let body = document.objectValue else { throw .invalidMetadata("The request body must be a JSON object") }
        let name = try validName(body["client_name"])
        let grants = try strings(body["grant_types"], field: "grant_types", max: maxGrantTypes, missing: .grantTypesEmpty)
        guard !grants.isEmpty else { throw .grantTypesEmpty }
        for grant in grants where !TokenIssuer.knownGrants.contains(grant) { throw .grantTypeNotSupported(grant) }
        let redirects = try strings(body["redirect_uris"], field: "redirect_uris", max: maxRedirectURIs, missing: nil)
        for uri in redirects where !isRedirectURI(uri) { throw .invalidRedirectURI(uri) }
        let scopes = try strings(body["scopes"], field: "scopes", max: maxScopes, missing: nil)
        for scope in scopes where !(scope == TokenIssuer.anyScope || TokenIssuer.isScopeToken(scope)) {
            throw .invalidMetadata(
                "\(ClientRegistrationError.shown(scope)) is not a scope (RFC 6749 §3.3 scope-token of at most \(TokenIssuer.maxScopeLength) characters)")
        }
        return ClientMetadata(name: name, grantTypes: grants, redirectURIs: redirects, scopes: scopes)
    }

    /// `client_name`: a string with a non-blank character, at most ``maxNameLength`` characters, no control characters.
    private static func validName(_ value: JSONValue?) throws(ClientRegistrationError) -> String {
        guard let value, value != .null else { throw .clientNameEmpty }
        guard let name = value.stringValue else { throw .invalidMetadata("client_name must be a string") }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw .clientNameEmpty }
        guard name.count <= maxNameLength else {
            throw .invalidMetadata("client_name is longer than \(maxNameLength) characters")
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidMetadata("client_name must not contain control characters")
        }
        return name
    }

    /// An optional array of strings, without repeats; `missing` is thrown when absent or null (nil: an empty list).
    private static func strings(
        _ value: JSONValue?, field: String, max: Int, missing: ClientRegistrationError?
    ) throws(ClientRegistrationError) -> [String] {
        guard let value, value != .null else {
            if let missing { throw missing }
            return []
        }
        guard let array = value.arrayValue else { throw .invalidMetadata("\(field) must be an array of strings") }
        var result: [String] = []
        for element in array {
            guard let text = element.stringValue else { throw .invalidMetadata("\(field) must be an array of strings") }
            if !result.contains(text) { result.append(text) }
        }
        guard result.count <= max else { throw .invalidMetadata("\(field) has more than \(max) entries") }
        return result
    }

    /// RFC 6749 §3.1.2: an absolute URI (here http or https, with a host) without a fragment, at most
    /// ``maxRedirectURILength`` bytes.
    static func isRedirectURI(_ text: String) -> Bool {
        guard text.utf8.count <= maxRedirectURILength, !text.contains("#"),
            let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return false }
        return true
    }
}
