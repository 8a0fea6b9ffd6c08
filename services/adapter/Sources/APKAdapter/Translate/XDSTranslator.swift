import EnvoyProtos
import Foundation
import SwiftProtobuf

/// Stage 2: IR → Envoy resources. Pure; golden-tested (rendered as JSON).
///
/// Shape (contract §7.9, §9): two listeners (`HTTPS_9095_listener` with the gateway certificate, `HTTP_9080_listener`)
/// share scoped routes (SRDS over ADS; one scope per first path segment with its route configuration inline,
/// ``ScopedRouting``);
/// in each, one virtual host per hostname (production and sandbox hostnames are
/// different, so they are different virtual hosts); one route per operation — anchored regex
/// `^<quoted base path><operation regex>([/]{0,1})` on the path (query excluded) plus an exact `:method` header
/// match, regex rewrite to the Backend's base path, `Host` rewritten to the upstream; routes of longer base paths
/// first, default-version duplicates after all versioned routes; one STRICT_DNS cluster per Backend.
package enum XDSTranslator {
    /// The metadata namespace on every API route (`filter_metadata["apk"]`), read by the enforcer and access logs.
    package static let metadataNamespace = "apk"
}
