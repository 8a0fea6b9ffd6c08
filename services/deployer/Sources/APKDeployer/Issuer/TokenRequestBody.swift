import APKModel

/// The fields of a token request body, whatever its form: `application/x-www-form-urlencoded` (§10.1) or, as the
/// reference's issuer also binds, a JSON object whose values are strings (`{"grant_type":"client_credentials",…}`).
/// Both give the same `(name, value)` list; repeated names are refused later (``TokenIssuer``), and a JSON object
/// cannot repeat a key (the parser refuses duplicates).
package enum TokenRequestBody {
    /// Most fields either form may carry.
    package static let maxFields = 32

    /// The fields of `bytes` sent as `mediaType` (lowercased, without parameters); an empty body has none, whatever
    /// its type. Any other media type, or a body that does not parse, is 400 `invalid_request`.
    package static func fields(_ bytes: [UInt8], mediaType: String?) throws(OAuthError) -> [(name: String, value: String)] {
        guard !bytes.isEmpty else { return [] }
        switch mediaType {
        case "application/x-www-form-urlencoded":
            do {
                return try FormURLEncoded.parse(bytes, maxFields: maxFields)
            } catch {
                throw .invalidRequest(error.description)
            }
        case "application/json":
            return try jsonFields(bytes)
        default:
            throw .invalidRequest("the body must be application/x-www-form-urlencoded or application/json")
        }
    }

    private static func jsonFields(_ bytes: [UInt8]) throws(OAuthError) -> [(name: String, value: String)] {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, maxDepth: 2)
        } catch {
            throw .invalidRequest("the body is not valid JSON")
        }
        guard let object = value.objectValue else { throw .invalidRequest("the JSON body must be an object") }
        guard object.count <= maxFields else { throw .invalidRequest("more than \(maxFields) fields") }
        var fields: [(name: String, value: String)] = []
        for (name, member) in object {
            guard let text = member.stringValue else {
                throw .invalidRequest("the JSON field \(shown(name)) must be a string")
            }
            fields.append((name, text))
        }
        return fields
    }

    private static func shown(_ name: String) -> String { name.count > 64 ? String(name.prefix(64)) + "…" : name }
}
