// apk-ratelimiter: Envoy's rate-limit service (RLS): fixed windows counted in Redis, rules from the adapter's
// discovery (ARCHITECTURE.md "Data path"). Reads configuration, runs until SIGTERM/SIGINT.
import APKRatelimiter
import APKRuntime

await APKMain.run("apk-ratelimiter", configuration: RatelimiterConfiguration.self) { configuration, _, logger in
    try buildApplication(configuration: configuration, logger: logger)
}
