import APKModel
package import Hummingbird
package import NIOCore

extension Request {
    /// Collects the whole body, refusing more than `limit` bytes with ``APKError/payloadTooLarge(limit:)`` (413).
    ///
    /// A `Content-Length` above the limit is refused before any byte is read; a body without (or lying about) its
    /// length is cut off as soon as it passes the limit.
    package func collectBody(limit: Int) async throws -> ByteBuffer {
        if let declared = headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw APKError.payloadTooLarge(limit: limit)
        }
        do {
            return try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APKError.payloadTooLarge(limit: limit)
        }
    }
}
