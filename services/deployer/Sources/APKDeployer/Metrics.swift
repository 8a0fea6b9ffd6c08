import Metrics

/// The deployer's metrics (README.md § Metrics). Labels are low-cardinality: results and reasons, never ids.
enum DeployerMetrics {
    /// `apk_deployer_deploys_total{result}`: deploy attempts by `success` or the APK error code that ended them.
    static func countDeploy(result: String) {
        Counter(label: "apk_deployer_deploys_total", dimensions: [("result", result)]).increment()
    }

    /// `apk_deployer_deploy_seconds`: time from a complete request body to the stored bundle.
    static func recordDeploy(duration: Duration) {
        Metrics.Timer(label: "apk_deployer_deploy_seconds").record(duration: duration)
    }

    /// `apk_deployer_undeploys_total{result}`: undeploy attempts by `success` or APK error code.
    static func countUndeploy(result: String) {
        Counter(label: "apk_deployer_undeploys_total", dimensions: [("result", result)]).increment()
    }

    /// `apk_deployer_tokens_issued_total{kind}`: access tokens (`access`) and internal keys (`internal_key`) minted.
    static func countTokenIssued(kind: String) {
        Counter(label: "apk_deployer_tokens_issued_total", dimensions: [("kind", kind)]).increment()
    }

    /// `apk_deployer_token_errors_total{error}`: refused token requests by OAuth2 `error` code.
    static func countTokenError(_ error: String) {
        Counter(label: "apk_deployer_token_errors_total", dimensions: [("error", error)]).increment()
    }

    /// `apk_deployer_auth_failures_total{reason}`: rejected caller tokens (`expired`, `bad_signature`, `scope`, …).
    static func countAuthFailure(reason: String) {
        Counter(label: "apk_deployer_auth_failures_total", dimensions: [("reason", reason)]).increment()
    }

    /// `apk_deployer_client_changes_total{action}`: client-management changes (`register`, `update`,
    /// `regenerate_secret`, `delete`).
    static func countClientChange(action: String) {
        Counter(label: "apk_deployer_client_changes_total", dimensions: [("action", action)]).increment()
    }
}
