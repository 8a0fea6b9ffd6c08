import Metrics
package import Prometheus

/// Process-wide metrics setup: one Prometheus registry behind swift-metrics.
package enum APKMetrics {
    /// The registry `/metrics` renders. The first access bootstraps swift-metrics with a Prometheus factory, so
    /// every `Counter`/`Timer` created through swift-metrics afterwards lands here.
    package static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// Bootstraps swift-metrics (idempotent) and returns the registry.
    @discardableResult
    package static func bootstrap() -> PrometheusCollectorRegistry { registry }
}
