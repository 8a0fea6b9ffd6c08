package import EnvoyProtos
import Foundation
import SwiftProtobuf

// One cluster per Backend, and the upstream TLS they share with the system clusters.
extension XDSTranslator {
    /// One cluster per Backend: STRICT_DNS (Envoy's default DNS refresh), IPv4, round robin, circuit breakers, optional TCP health check and TLS.
    package static func cluster(
        for backend: BackendIR, settings: XDSSettings, encoder: ProtoEncoder = .deterministic
    ) throws -> Envoy_Config_Cluster_V3_Cluster {
        var cluster = upstreamCluster(
            name: backend.cluster, host: backend.host, port: backend.port, settings: settings)
        var thresholds = Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds()
        thresholds.maxConnections = Google_Protobuf_UInt32Value(UInt32(clamping: backend.circuitBreaker.maxConnections))
        thresholds.maxPendingRequests = Google_Protobuf_UInt32Value(
            UInt32(clamping: backend.circuitBreaker.maxPendingRequests))
        thresholds.maxRequests = Google_Protobuf_UInt32Value(UInt32(clamping: backend.circuitBreaker.maxRequests))
        thresholds.maxRetries = Google_Protobuf_UInt32Value(UInt32(clamping: backend.circuitBreaker.maxRetries))
        cluster.circuitBreakers.thresholds = [thresholds]
        if let check = backend.healthCheck {
            var health = Envoy_Config_Core_V3_HealthCheck()
            health.timeout = Google_Protobuf_Duration(seconds: Int64(check.timeoutSeconds))
            health.interval = Google_Protobuf_Duration(seconds: Int64(check.intervalSeconds))
            health.unhealthyThreshold = Google_Protobuf_UInt32Value(UInt32(clamping: check.unhealthyThreshold))
            health.healthyThreshold = Google_Protobuf_UInt32Value(UInt32(clamping: check.healthyThreshold))
            health.tcpHealthCheck = Envoy_Config_Core_V3_HealthCheck.TcpHealthCheck()
            cluster.healthChecks = [health]
        }
        if let tls = backend.tls {
            var context = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext()
            context.sni = tls.sni
            if let ca = tls.trustedCA {
                context.commonTlsContext.validationContext.trustedCa.inlineString = ca
            } else {
                context.commonTlsContext.validationContext.trustedCa.filename = systemTrustStore
            }
            context.commonTlsContext.validationContext.matchTypedSubjectAltNames = tls.allowedSANs.map { san in
                var matcher = Envoy_Extensions_TransportSockets_Tls_V3_SubjectAltNameMatcher()
                matcher.sanType = .dns
                matcher.matcher.exact = san
                return matcher
            }
            cluster.transportSocket = try transportSocket(upstream: context, encoder: encoder)
        }
        return cluster
    }

    /// The CA bundle Envoy trusts for TLS backends without their own certificate (Debian's system bundle).
    package static let systemTrustStore = "/etc/ssl/certs/ca-certificates.crt"

    static func upstreamCluster(
        name: String, host: String, port: Int, settings: XDSSettings
    ) -> Envoy_Config_Cluster_V3_Cluster {
        var cluster = Envoy_Config_Cluster_V3_Cluster()
        cluster.name = name
        cluster.type = .strictDns
        cluster.connectTimeout = Google_Protobuf_Duration(seconds: Int64(settings.connectTimeoutSeconds))
        cluster.dnsLookupFamily = .v4Only
        cluster.lbPolicy = .roundRobin
        var endpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
        endpoint.endpoint.address.socketAddress.address = host
        endpoint.endpoint.address.socketAddress.portValue = UInt32(clamping: port)
        var locality = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
        locality.lbEndpoints = [endpoint]
        cluster.loadAssignment.clusterName = name
        cluster.loadAssignment.endpoints = [locality]
        return cluster
    }

    static func transportSocket(
        upstream context: Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext, encoder: ProtoEncoder
    ) throws -> Envoy_Config_Core_V3_TransportSocket {
        var socket = Envoy_Config_Core_V3_TransportSocket()
        socket.name = "envoy.transport_sockets.tls"
        socket.typedConfig = try AnyPacking.pack(context, encoder: encoder)
        return socket
    }
}
