// apk-echo: the httpbin-like test backend (see EchoRouter). HTTP_HOST (127.0.0.1) and HTTP_PORT (8088).
import APKEcho
import APKRuntime

await APKMain.run("apk-echo", configuration: EchoConfiguration.self) { configuration, _, logger in
    try buildApplication(configuration: configuration, logger: logger)
}
