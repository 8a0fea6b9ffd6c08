import Metrics

/// The config service's metrics (README.md § Metrics). Labels are low-cardinality: route names, not paths.
enum ConfigMetrics {
    /// `apk_config_requests_total{route,status}`: every response, by route name and HTTP status code.
    static func countRequest(route: String, status: Int) {
        Counter(label: "apk_config_requests_total", dimensions: [("route", route), ("status", String(status))])
            .increment()
    }

    /// `apk_config_conversion_seconds{operation}`: time spent in the model's conversion, by operation
    /// (`generate-configuration`, `generate-k8s-resources`).
    static func recordConversion(operation: String, duration: Duration) {
        Metrics.Timer(label: "apk_config_conversion_seconds", dimensions: [("operation", operation)])
            .record(duration: duration)
    }

    /// Runs `body` and records its duration under `operation`, whether it succeeds or throws.
    static func timeConversion<T, E: Error>(_ operation: String, _ body: () throws(E) -> T) throws(E) -> T {
        let clock = ContinuousClock()
        let start = clock.now
        defer { recordConversion(operation: operation, duration: clock.now - start) }
        return try body()
    }
}
