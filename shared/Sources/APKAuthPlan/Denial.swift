import APKModel

/// A refused request: status, APK error code and the exact body of contract §7.6.
package struct Denial: Sendable, Hashable {
    package var status: Int
    package var code: Int
    package var message: String
    package var description: String
    /// Response headers besides `Content-Type` (`WWW-Authenticate` on 401).
    package var headers: [Header]

    package struct Header: Sendable, Hashable {
        package var name: String
        package var value: String

        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    package init(status: Int, code: Int, message: String, description: String, headers: [Header]) {
        self.status = status
        self.code = code
        self.message = message
        self.description = description
        self.headers = headers
    }

    /// `Content-Type` of every denial (the reference's spelling).
    package static let contentType = "Application/json"
    /// RFC 6750 challenge sent with every 401.
    package static let challenge = Header(name: "www-authenticate", value: #"Bearer realm="APK""#)

    /// 401 900903: a credential is missing, malformed, expired, of another issuer, API or environment.
    package static let invalidCredentials = Denial(
        status: 401, code: 900903, message: "Invalid Credentials",
        description: "Make sure you have provided the correct security credentials", headers: [challenge])

    /// 403 900910: the token lacks a scope the operation requires.
    package static func missingScope(target: String) -> Denial {
        Denial(
            status: 403, code: 900910, message: "The access token does not allow you to access the requested resource",
            description: scopeDescription(target: target), headers: [])
    }

    /// 403 900908: subscription validation is on and the caller's application holds no subscription to the API.
    package static let notSubscribed = Denial(
        status: 403, code: 900908, message: "Resource forbidden",
        description: "User is NOT authorized to access the Resource. API Subscription validation failed.", headers: [])

    /// The 900910 description; `target` may also be an Envoy substitution command (the adapter's local reply).
    package static func scopeDescription(target: String) -> String {
        "User is NOT authorized to access the Resource: \(target). Scope validation failed."
    }

    /// The body: JSON pretty-printed with two spaces, keys `error_message`, `code` (a number), `error_description`.
    package var body: String { Self.body(message: message, code: code, description: description) }

    /// The body for any message and description (already escaped text is not re-escaped: pass raw strings).
    package static func body(message: String, code: Int, description: String) -> String {
        "{\n  \"error_message\": \(quoted(message)),\n  \"code\": \(code),\n  \"error_description\": \(quoted(description))\n}"
    }

    /// A JSON string literal (the model's one JSON writer escapes it).
    static func quoted(_ text: String) -> String { DocumentWriter.json(.string(text)) }
}
