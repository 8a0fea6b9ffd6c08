import APKAdapter
import APKRuntime
import Testing
import APKSupport

@Suite struct AdapterConfigurationTests {
    @Test func defaultsMatchTheLocalStack() throws {
        let configuration = try AdapterConfiguration(reader: ConfigReader(environment: [:]))
        #expect(configuration.xdsPort == 18000)
        #expect(configuration.ops.port == 18001)
        #expect(configuration.nodeID == "wso2-apk-default")
        #expect(configuration.xds.httpsPort == 9095 && configuration.xds.httpPort == 9080)
        #expect(configuration.xds.tls == nil)
        #expect(configuration.xds.systemDeployer == XDSSettings.Upstream(host: "127.0.0.1", port: 9444, tls: false))
    }

    @Test func readsEveryKey() throws {
        let configuration = try AdapterConfiguration(reader: ConfigReader(environment: [
            "XDS_PORT": "28000", "HTTP_PORT": "28001", "WATCH_NAMESPACE": "apk", "GATEWAY_NAME": "gw-1",
            "GATEWAY_LISTENER_ADDRESS": "127.0.0.1", "GATEWAY_HTTPS_PORT": "8443", "GATEWAY_HTTP_PORT": "0",
            "GATEWAY_TLS_CERTIFICATE": "/c.pem", "GATEWAY_TLS_KEY": "/k.pem", "SYSTEM_CONFIG_URL": "none",
            "SYSTEM_DEPLOYER_URL": "https://deployer.apk.svc:9444", "GATEWAY_CONNECT_TIMEOUT": "3s",
        ]))
        #expect(configuration.xdsPort == 28000 && configuration.ops.port == 28001)
        #expect(configuration.namespace == "apk" && configuration.nodeID == "gw-1")
        #expect(configuration.xds.listenerAddress == "127.0.0.1" && configuration.xds.httpsPort == 8443)
        #expect(configuration.xds.httpPort == nil)
        #expect(configuration.xds.tls == XDSSettings.ListenerTLS(certificatePath: "/c.pem", keyPath: "/k.pem"))
        #expect(configuration.xds.systemConfig == nil)
        #expect(configuration.xds.systemDeployer == XDSSettings.Upstream(host: "deployer.apk.svc", port: 9444, tls: true))
        #expect(configuration.xds.connectTimeoutSeconds == 3)
    }

    @Test(arguments: [
        ["GATEWAY_TLS_CERTIFICATE": "/c.pem"],
        ["SYSTEM_DEPLOYER_URL": "ftp://x"],
        ["SYSTEM_DEPLOYER_URL": "http://host:99999"],
        ["SYSTEM_CONFIG_URL": "http://host/path"],
        ["XDS_PORT": "-1"],
        ["STORE_BACKEND": "etcd"],
        ["AUTH_ENFORCEMENT": "both"],
        ["AUTH_ENFORCEMENT": "enforcer", "AUTH_ENFORCER_URL": "https://127.0.0.1:8081"],
        ["AUTH_ENFORCEMENT": "enforcer", "AUTH_ENFORCER_URL": "none"],
        ["AUTH_ENFORCEMENT": "enforcer", "AUTH_ENFORCER_TIMEOUT": "2m"],
    ])
    func rejectsBadValues(environment: [String: String]) {
        #expect(throws: (any Error).self) { try AdapterConfiguration(reader: ConfigReader(environment: environment)) }
    }

    @Test func enforcementModes() throws {
        let local = XDSSettings.Upstream(host: "127.0.0.1", port: 8081, tls: false)
        let defaults = try AdapterConfiguration(reader: ConfigReader(environment: [:]))
        #expect(defaults.xds.auth.enforcement == .native)
        // Native mode still links the enforcer (backend-JWT routes), unless told there is none.
        #expect(defaults.xds.auth.enforcer == XDSSettings.EnforcerLink(upstream: local, timeoutMilliseconds: 1000))
        #expect(try AdapterConfiguration(reader: ConfigReader(environment: ["AUTH_ENFORCER_URL": "none"])).xds.auth.enforcer == nil)
        let enforcer = try AdapterConfiguration(reader: ConfigReader(environment: ["AUTH_ENFORCEMENT": "Enforcer"]))
        #expect(enforcer.xds.auth.enforcement == .enforcer)
        #expect(enforcer.xds.auth.enforcer == XDSSettings.EnforcerLink(upstream: local, timeoutMilliseconds: 1000))
        let custom = try AdapterConfiguration(reader: ConfigReader(environment: [
            "AUTH_ENFORCEMENT": "enforcer", "AUTH_ENFORCER_URL": "http://10.0.0.7:9000", "AUTH_ENFORCER_TIMEOUT": "250ms",
        ]))
        #expect(custom.xds.auth.enforcer == XDSSettings.EnforcerLink(
            upstream: XDSSettings.Upstream(host: "10.0.0.7", port: 9000, tls: false), timeoutMilliseconds: 250))
        #expect(throws: (any Error).self) {
            try AdapterConfiguration(reader: ConfigReader(environment: ["AUTH_ENFORCEMENT": "enforcer", "AUTH_ENFORCER_URL": "none"]))
        }
        #expect(defaults.xds.systemEnforcerJWKS == XDSSettings.Upstream(host: "127.0.0.1", port: 9092, tls: false))
    }
}
