import APKModel
import APKRuntime
import APKStore
import Foundation
package import Hummingbird
import Logging
import NIOCore

/// The built-in token issuer's endpoints: `POST /oauth2/token` (§10.1) and the JWKS at `GET /oauth2/jwks` and
/// `GET /oauth2/keys` (ours: a real key set instead of the reference's empty stub).
package struct OAuthController<Context: RequestContext>: Sendable {
    package let issuer: TokenIssuer
    package let keys: SigningKeyManager
    /// Largest accepted token-request body.
    package let maxBodyBytes: Int

    package init(issuer: TokenIssuer, keys: SigningKeyManager, maxBodyBytes: Int) {
        self.issuer = issuer
        self.keys = keys
        self.maxBodyBytes = maxBodyBytes
    }

    package func addRoutes(to router: Router<Context>) {
        let group = router.group("oauth2")
        group.post("token") { request, context in
            await token(request, context: context)
        }
        group.get("jwks") { _, _ in try await jwks() }
        group.get("keys") { _, _ in try await jwks() }
    }

    func token(_ request: Request, context: Context) async -> Response {
        do {
            let form = try await readForm(request)
            let grant = try await issuer.issue(
                authorization: request.headers[.authorization], form: form, logger: context.logger)
            return Response.json(grant.jsonBody).noStore()
        } catch {
            DeployerMetrics.countTokenError(error.error)
            context.logger.info(
                "token request refused",
                metadata: ["oauth.error": .string(error.error), "http.status": .stringConvertible(error.status)])
            var response = error.response
            if error.status == 401 { response.headers[.wwwAuthenticate] = #"Basic realm="apk""# }
            return response
        }
    }

    /// `{"keys":[…]}`: every published key, newest (active) first.
    func jwks() async throws -> Response {
        do {
            let published = try await keys.publishedKeys()
            var response = Response.json(["keys": .array(published.map(\.jwk))])
            response.headers[.cacheControl] = "public, max-age=60"
            return response
        } catch {
            throw APKError.store(error)
        }
    }

    /// The request's fields: form data or a JSON object (``TokenRequestBody``), at most ``maxBodyBytes``.
    private func readForm(_ request: Request) async throws(OAuthError) -> [(name: String, value: String)] {
        let mediaType = request.headers[.contentType]?.split(separator: ";").first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let body: ByteBuffer
        do {
            body = try await request.collectBody(limit: maxBodyBytes)
        } catch let error as APKError where error.status == 413 {
            throw .tooLarge(limit: maxBodyBytes)
        } catch {
            throw .invalidRequest("the request body could not be read")
        }
        return try TokenRequestBody.fields(Array(body.readableBytesView), mediaType: mediaType)
    }
}
