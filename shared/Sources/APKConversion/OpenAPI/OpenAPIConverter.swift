package import APKModel
package import Foundation

/// OpenAPI 3.0 / 3.1 and Swagger 2.0 (JSON or YAML) → apk-conf (contract §5.1), and the definition stored with a
/// deployed API (§5.2).
///
/// Reading: bytes → bounded ``DocumentParser`` → ``OpenAPISource`` (version detected; Swagger 2.0 converted to
/// OpenAPI 3.0 by ``SwaggerConverter``) → ``OpenAPIModel`` (OpenAPIKit, decoded part by part; 3.0 converted to
/// 3.1 by `OpenAPIKitCompat`). Every problem is a 400 / 90091 ``APKError`` (413 when the document is too large);
/// nothing on the input path can crash.
package struct OpenAPIConverter: Sendable {
    package var parser: DocumentParser

    package init(parser: DocumentParser = DocumentParser()) { self.parser = parser }

    /// §5.1: name, version, base64 basePath, operations in document order, scopes, servers as endpoints.
    package func apkConf(fromDefinition data: Data, apiType: ApkConf.APIType = .rest) throws(APKError) -> ApkConf {
        guard apiType == .rest else { throw .unsupportedAPIType(apiType.rawValue) }
        let source = try OpenAPISource.read(data, parser: parser)
        let model = try OpenAPIModel.decode(source)
        return try Self.apkConf(from: model, apiType: apiType)
    }

    /// The definition stored in the `<id>-definition` ConfigMap (§5.2): the supplied OpenAPI regenerated to hold
    /// exactly the apk-conf's operations (as OpenAPI 3 JSON), or a generated one when `data` is nil.
    ///
    /// The supplied document is edited as a ``JSONValue`` tree (not re-encoded from OpenAPIKit, whose extension
    /// and security-requirement dictionaries have no stable order), so the output keeps everything the author
    /// wrote, in the author's order, and the same input always gives the same bytes. The OpenAPI version is kept
    /// (3.0.x or 3.1.x; Swagger 2.0 becomes 3.0.3). GraphQL and gRPC definitions are stored as supplied.
    package func definitionForBundle(_ data: Data?, conf: ApkConf) throws(APKError) -> Data {
        guard conf.type == .rest else {
            guard let data else { throw .unsupportedAPIType(conf.type.rawValue) }
            return data
        }
        let document: JSONObject
        if let data {
            let source = try OpenAPISource.read(data, parser: parser)
            _ = try OpenAPIModel.decode(source)  // the stored definition must be one we can read back
            document = DefinitionBuilder.regenerate(source.document, conf: conf)
        } else {
            document = DefinitionBuilder.generate(conf)
        }
        return Data((DocumentWriter.json(.object(document), pretty: true) + "\n").utf8)
    }
}
