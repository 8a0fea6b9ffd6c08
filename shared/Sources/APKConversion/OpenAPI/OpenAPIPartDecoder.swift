import APKModel
import OpenAPIKit

/// Decodes OpenAPIKit models from parts of a ``JSONValue`` document, reporting failures as 400 / 90091 problems
/// that name where (`paths['/pets'].get.responses`, `components.schemas.Pet.type`).
///
/// Vendor extensions: OpenAPIKit reads them by decoding each object's whole subtree as `AnyCodable` (trying every
/// type in turn), which costs O(size × depth). Parts are decoded without them; the skeleton (top level, `info`,
/// `servers`, security) with them, so unknown top-level fields are still reported.
struct OpenAPIPartDecoder {
    /// Decodes `value`, found at `path` in the document (`["paths", "/pets"]`), as `T`.
    func decode<T: Decodable>(
        _ type: T.Type, from value: JSONValue, at path: [String], vendorExtensions: Bool = false
    ) throws(APKError) -> T {
        do {
            let decoder = JSONValueDecoder(userInfo: [VendorExtensionsConfiguration.enabledKey: vendorExtensions])
            return try decoder.decode(type, from: value, codingPath: path)
        } catch {
            throw .invalidDefinition([OpenAPIProblems.decodingProblem(error, at: OpenAPIProblems.location(path))])
        }
    }
}
