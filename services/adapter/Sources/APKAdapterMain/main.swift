// apk-adapter: watches the resource store, translates CRs → IR → Envoy xDS and serves ADS to the router
// (ARCHITECTURE.md "Adapter pipeline"). Reads configuration, runs the service group until SIGTERM/SIGINT.
import APKAdapter
import APKRuntime
import Foundation

await APKMain.run("apk-adapter", configuration: AdapterConfiguration.self) { configuration, reader, logger in
    let store = try makeAdapterStore(
        configuration: configuration, environment: ProcessInfo.processInfo.environment, reader: reader, logger: logger)
    return try buildApplication(
        configuration: configuration, store: store.store, storeServices: store.services, logger: logger)
}
