import Metrics

/// The metrics of the xDS server and client (STYLE.md: one `Metrics.swift` per module).
enum XDSMetrics {
    /// `apk_xds_nacks_total{type}`: responses Envoy rejected, by short type name (`Cluster`, `Listener`, …).
    static func countNACK(typeURL: String) {
        Counter(label: "apk_xds_nacks_total", dimensions: [("type", TypeURL.shortName(typeURL))]).increment()
    }

    /// `apk_xds_client_nacks_total{type}`: responses an ``XDSClient`` rejected, by short type name (`Api`, …).
    static func countClientNACK(typeURL: String) {
        Counter(label: "apk_xds_client_nacks_total", dimensions: [("type", TypeURL.shortName(typeURL))]).increment()
    }

    /// `apk_xds_client_reconnects_total`: ADS stream attempts an ``XDSClient`` retried after a failure or close.
    static func countClientReconnect() {
        Counter(label: "apk_xds_client_reconnects_total").increment()
    }
}
