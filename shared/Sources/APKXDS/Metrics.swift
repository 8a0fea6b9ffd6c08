import Metrics

/// The metrics of the xDS server (STYLE.md: one `Metrics.swift` per module).
enum XDSMetrics {
    /// `apk_xds_nacks_total{type}`: responses Envoy rejected, by short type name (`Cluster`, `Listener`, …).
    static func countNACK(typeURL: String) {
        Counter(label: "apk_xds_nacks_total", dimensions: [("type", TypeURL.shortName(typeURL))]).increment()
    }
}
