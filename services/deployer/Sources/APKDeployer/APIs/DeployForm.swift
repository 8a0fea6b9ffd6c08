import APKModel
package import APKRuntime
package import Foundation
package import Hummingbird

/// Reads the deploy request's `multipart/form-data` body (bounded) into its two required parts.
package struct DeployForm: Sendable {
    /// The two files of §3.2.
    package struct Parts: Sendable {
        package var apkConfiguration: Data
        package var definitionFile: Data
    }

    /// Largest accepted body (413 909060 above it).
    package var maxBodyBytes: Int
    package var limits: MultipartParser.Limits

    package init(maxBodyBytes: Int, limits: MultipartParser.Limits = MultipartParser.Limits()) {
        self.maxBodyBytes = maxBodyBytes
        self.limits = limits
    }

    /// Both parts, or 406 909017 naming what is missing; 413 909060 when the body is too large.
    package func read(_ request: Request) async throws -> Parts {
        let boundary: String
        do {
            boundary = try MultipartParser.boundary(contentType: request.headers[.contentType])
        } catch {
            throw APKError.invalidAPIRequest(error.description)
        }
        let body = try await request.collectBody(limit: maxBodyBytes)
        let form: MultipartFormData
        do {
            form = try MultipartParser(limits: limits).parse(body, boundary: boundary)
        } catch {
            throw APKError.invalidAPIRequest(error.description)
        }
        guard let conf = form.part(named: "apkConfiguration") else {
            throw APKError.invalidAPIRequest("the apkConfiguration part is missing")
        }
        guard let definition = form.part(named: "definitionFile") else {
            throw APKError.invalidAPIRequest("the definitionFile part is missing")
        }
        return Parts(
            apkConfiguration: Data(conf.body.readableBytesView), definitionFile: Data(definition.body.readableBytesView))
    }
}
