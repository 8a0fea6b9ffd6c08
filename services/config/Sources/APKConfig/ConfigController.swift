import APKModel
import APKRuntime
import Foundation
package import Hummingbird
import Logging
import NIOCore
import APKConversion

/// The REST endpoints of contract §2.1–2.2, under `/api/configurator/apis/` and the versioned alias
/// `/api/configurator/1.3.0/apis/`.
package struct ConfigController<Context: RequestContext>: Sendable {
    /// Path prefixes every endpoint is served under.
    package static var prefixes: [String] { ["/api/configurator/apis", "/api/configurator/1.3.0/apis"] }

    package let configuration: ConfigServiceConfiguration
    package let fetcher: DefinitionFetcher

    package init(configuration: ConfigServiceConfiguration, fetcher: DefinitionFetcher) {
        self.configuration = configuration
        self.fetcher = fetcher
    }

    package func addRoutes(to router: Router<Context>) {
        for prefix in Self.prefixes {
            let group = router.group(RouterPath(prefix))
            group.post("generate-configuration") { request, context in
                try await generateConfiguration(request, context: context)
            }
            group.post("generate-k8s-resources") { request, context in
                try await generateK8sResources(request, context: context)
            }
        }
    }

    /// §2.1: an OpenAPI definition (uploaded, or fetched from `url`) → apk-conf YAML.
    func generateConfiguration(_ request: Request, context: Context) async throws -> Response {
        let form = try await readForm(request)
        let definitionPart = form.part(named: "definition")
        let url = form.part(named: "url").map(\.text).flatMap { $0.isEmpty ? nil : $0 }
        guard (definitionPart == nil) != (url == nil) else { throw APKError.specifyDefinitionOrURL }
        let apiType = try Self.apiType(form.part(named: "apiType")?.text)
        let definition: Data =
            if let definitionPart { Data(definitionPart.body.readableBytesView) } else {
                try await fetcher.fetch(url ?? "", logger: context.logger)
            }
        let conf = try ConfigMetrics.timeConversion("generate-configuration") { () throws(APKError) in
            try OpenAPIConverter().apkConf(fromDefinition: definition, apiType: apiType)
        }
        context.logger.debug("generated apk-conf", metadata: ["apk.api.name": .string(conf.name)])
        return Response.bytes(ByteBuffer(string: conf.yaml()), contentType: "application/yaml")
    }

    /// §2.2: apk-conf + definition → a zip (or, with `Accept: application/yaml`, a YAML stream) of CRs.
    func generateK8sResources(_ request: Request, context: Context) async throws -> Response {
        let organization = try Self.organization(request.uri.queryParameters.get("organization"))
        let form = try await readForm(request)
        guard let confPart = form.part(named: "apkConfiguration") else {
            throw APKError.invalidAPIRequest("the apkConfiguration part is missing")
        }
        guard let definitionPart = form.part(named: "definitionFile") else {
            throw APKError.invalidAPIRequest("the definitionFile part is missing")
        }
        let options = configuration.bundle
        let (conf, bundle) = try ConfigMetrics.timeConversion("generate-k8s-resources") { () throws(APKError) in
            let conf = try ApkConfLoader().load(Data(confPart.body.readableBytesView))
            let definition = Data(definitionPart.body.readableBytesView)
            return (conf, try CRBundleBuilder(options: options).build(
                conf: conf, definition: definition, organization: organization))
        }
        context.logger.debug(
            "generated CR bundle",
            metadata: ["apk.api.id": .string(bundle.apiID), "apk.resources": .stringConvertible(bundle.resources.count)])
        if Self.wantsYAML(request.headers[.accept]) {
            return Response.bytes(ByteBuffer(string: bundle.yamlStream()), contentType: "application/yaml")
        }
        let archive = try BundleArchive.zip(bundle)
        var response = Response.bytes(ByteBuffer(bytes: archive), contentType: "application/zip")
        response.headers[.contentDisposition] =
            "attachment; filename=\(BundleArchive.fileName(name: conf.name, version: conf.version))"
        return response
    }

    // MARK: - Request pieces

    private func readForm(_ request: Request) async throws -> MultipartFormData {
        let boundary: String
        do {
            boundary = try MultipartParser.boundary(contentType: request.headers[.contentType])
        } catch {
            throw APKError.invalidAPIRequest(error.description)
        }
        let body = try await request.collectBody(limit: configuration.maxBodyBytes)
        do {
            return try MultipartParser(limits: configuration.multipart).parse(body, boundary: boundary)
        } catch {
            throw APKError.invalidAPIRequest(error.description)
        }
    }

    /// `REST` (default), `GRAPHQL` or `GRPC`, case-insensitive.
    static func apiType(_ text: String?) throws(APKError) -> ApkConf.APIType {
        guard let text, !text.isEmpty else { return .rest }
        guard let type = ApkConf.APIType(rawValue: text.uppercased()) else { throw .invalidAPIType }
        return type
    }

    /// The `organization` query parameter: absent → `default`; else a DNS label (1–63 of `[a-z0-9-]`, alphanumeric
    /// at both ends), checked before the body is read; the model's 909062 error otherwise.
    static func organization(_ value: String?) throws(APKError) -> String {
        guard let value else { return "default" }
        let bytes = Array(value.utf8)
        let isAlphanumeric = { (b: UInt8) in (0x61...0x7A).contains(b) || (0x30...0x39).contains(b) }
        guard let first = bytes.first, let last = bytes.last, bytes.count <= 63, isAlphanumeric(first),
            isAlphanumeric(last), bytes.allSatisfy({ isAlphanumeric($0) || $0 == 0x2D })
        else { throw .invalidOrganization(value) }
        return value
    }

    /// True when the first of the accepted media types we can produce is YAML rather than zip.
    static func wantsYAML(_ accept: String?) -> Bool {
        guard let accept else { return false }
        for range in accept.split(separator: ",") {
            let type = range.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            switch type {
            case "application/yaml", "application/x-yaml", "text/yaml": return true
            case "application/zip", "*/*", "application/*": return false
            default: continue
            }
        }
        return false
    }
}
