// apk-config: the stateless configurator REST service (contract §2). Reads configuration, runs until SIGTERM/SIGINT.
import APKConfig
import APKRuntime

await APKMain.run("apk-config", configuration: ConfigServiceConfiguration.self) { configuration, _, logger in
    try buildApplication(configuration: configuration, logger: logger)
}
