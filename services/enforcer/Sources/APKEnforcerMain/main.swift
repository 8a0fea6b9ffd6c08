// apk-enforcer: Envoy's ext_authz service (`enforcer` mode): decides each secured request with the plan its route
// carries and the token issuers' keys (ARCHITECTURE.md "Data path"). Reads configuration, runs until SIGTERM/SIGINT.
import APKEnforcer
import APKRuntime

await APKMain.run("apk-enforcer", configuration: EnforcerConfiguration.self) { configuration, _, logger in
    try buildApplication(configuration: configuration, logger: logger)
}
