package import Foundation

/// OpenAPI 3.0 / 3.1 and Swagger 2.0 (JSON or YAML) → apk-conf (contract §5.1).
/// STUB: being implemented (see issue 2); signatures are fixed.
package struct OpenAPIConverter: Sendable {
    package var parser: DocumentParser

    package init(parser: DocumentParser = DocumentParser()) { self.parser = parser }

    /// §5.1: name, version, base64 basePath, operations in document order, scopes, servers as endpoints.
    package func apkConf(fromDefinition data: Data, apiType: ApkConf.APIType = .rest) throws(APKError) -> ApkConf {
        throw .internalError("not implemented")
    }

    /// The definition stored in the `<id>-definition` ConfigMap (§5.2): the supplied OpenAPI regenerated to hold
    /// exactly the apk-conf's operations (as OpenAPI 3 JSON), or a generated one when `data` is nil.
    package func definitionForBundle(_ data: Data?, conf: ApkConf) throws(APKError) -> Data {
        throw .internalError("not implemented")
    }
}
