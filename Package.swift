// swift-tools-version:6.2
// APK — Kubernetes-native API gateway. One manifest for every target (see docs/ and ../shared/design/ARCHITECTURE.md).
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "apk",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "apk-config", targets: ["APKConfigMain"]),
        .executable(name: "apk-deployer", targets: ["APKDeployerMain"]),
        .executable(name: "apk-adapter", targets: ["APKAdapterMain"]),
        .executable(name: "apk-enforcer", targets: ["APKEnforcerMain"]),
        .executable(name: "apk-ratelimiter", targets: ["APKRatelimiterMain"]),
        .executable(name: "apk-bench", targets: ["APKBench"]),
        .executable(name: "apk-echo", targets: ["APKEchoMain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", exact: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", exact: "1.35.2"),
        .package(url: "https://github.com/jpsim/Yams.git", exact: "6.2.2"),
        .package(url: "https://github.com/mattpolzin/OpenAPIKit.git", exact: "6.4.0", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", exact: "5.8.0"),
        // Protobuf runtime and gRPC: pinned together with the plugins in tools/protoc-plugins (scripts/protos/generate.sh).
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "2.4.1"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", exact: "2.9.2"),
    ],
    targets: [
        // MARK: shared
        .systemLibrary(name: "CZlib", path: "shared/Sources/CZlib"),
        // Leaf helpers every module may use (configuration keys, back-off, hex); no dependencies.
        .target(name: "APKSupport", path: "shared/Sources/APKSupport", swiftSettings: swiftSettings),
        // GENERATED protobuf modules (scripts/protos/generate.sh; committed, never edited by hand). No upcoming
        // features: the generated code is written for the plain Swift 6 language mode.
        .target(
            name: "EnvoyProtos",
            dependencies: [.swiftProtobuf],
            path: "shared/Sources/EnvoyProtos"
        ),
        .target(
            name: "EnvoyGRPC",
            dependencies: [
                "EnvoyProtos", .gRPCCore, .gRPCProtobuf,
            ],
            path: "shared/Sources/EnvoyGRPC"
        ),
        .target(
            name: "APKProtos",
            dependencies: [.swiftProtobuf],
            path: "shared/Sources/APKProtos"
        ),
        .testTarget(
            name: "APKProtosTests",
            dependencies: [
                "EnvoyProtos", "APKProtos", .swiftProtobuf,
            ],
            path: "shared/Tests/APKProtosTests",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "APKModel",
            dependencies: [
                "APKSupport", .crypto,
            ],
            path: "shared/Sources/APKModel",
            swiftSettings: swiftSettings
        ),
        // Control-plane only (config, deployer, their tests and benchmarks): YAML, OpenAPI conversion, apk-conf
        // loading and the CR bundle builder. Data-plane targets must never depend on it (`./build-apk.sh check`).
        .target(
            name: "APKConversion",
            dependencies: [
                "APKModel", "CZlib", .yams, .openAPIKit, .openAPIKit30, .openAPIKitCompat,
            ],
            path: "shared/Sources/APKConversion",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "APKConversionTests",
            dependencies: ["APKConversion", "APKModel", "APKTestSupport"],
            path: "shared/Tests/APKConversionTests",
            swiftSettings: swiftSettings
        ),
        // A lean unary-only gRPC server on NIOHTTP2 for the per-request calls Envoy makes (ext_authz, RLS).
        .target(
            name: "APKUnaryGRPC",
            dependencies: [
                .nIOCore, .nIOPosix, .nIOHTTP2, .nIOHPACK, .swiftProtobuf, .logging, .serviceLifecycle,
            ],
            path: "shared/Sources/APKUnaryGRPC",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "APKUnaryGRPCTests",
            dependencies: [
                "APKUnaryGRPC", "EnvoyGRPC", "EnvoyProtos", .gRPCCore, .gRPCNIOTransportHTTP2, .logging,
            ],
            path: "shared/Tests/APKUnaryGRPCTests",
            swiftSettings: swiftSettings
        ),
        // Tokens: JWS (RS256/ES256) signing and verification, JWK/JWKS, claims, issuer key sources.
        .target(
            name: "APKAuth",
            dependencies: [
                "APKModel", "APKSupport", .crypto, .cryptoExtras, .logging,
            ],
            path: "shared/Sources/APKAuth",
            swiftSettings: swiftSettings
        ),
        // The gateway's security decisions: per-API auth plans from the CRs and the evaluator that decides a request
        // (compiled by the adapter into Envoy's native filters; evaluated by the enforcer). Data plane: no YAML/OpenAPI.
        .target(
            name: "APKAuthPlan",
            dependencies: ["APKAuth", "APKModel"],
            path: "shared/Sources/APKAuthPlan",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "APKAuthPlanTests",
            dependencies: [
                "APKAuthPlan", "APKAuth", "APKModel", "APKTestTokens", .crypto, .cryptoExtras,
            ],
            path: "shared/Tests/APKAuthPlanTests",
            swiftSettings: swiftSettings
        ),
        // The shared outbound HTTP client (one per process, as a Service) and what fetches through it.
        .target(
            name: "APKHTTPClient",
            dependencies: [
                "APKAuth", "APKSupport", .asyncHTTPClient, .nIOCore, .nIOHTTP1, .nIOSSL, .logging, .serviceLifecycle,
            ],
            path: "shared/Sources/APKHTTPClient",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "APKRuntime",
            dependencies: [
                "APKModel", "APKSupport", .hummingbird, .hummingbirdCore, .hummingbirdTLS, .logging, .metrics,
                .prometheus, .serviceLifecycle, .unixSignals, .nIOCore, .nIOSSL, .nIOHTTPTypes,
            ],
            path: "shared/Sources/APKRuntime",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "APKRuntimeTests",
            dependencies: [
                "APKRuntime", "APKModel", "APKSupport", "APKTestSupport", .hummingbird, .hummingbirdTesting, .logging,
                .prometheus, .nIOCore,
            ],
            path: "shared/Tests/APKRuntimeTests",
            swiftSettings: swiftSettings
        ),

        .target(
            name: "APKStore",
            dependencies: [
                "APKModel", "APKSupport", .postgresNIO, .logging, .serviceLifecycle,
            ],
            path: "shared/Sources/APKStore",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "APKStoreTests",
            dependencies: [
                "APKStore", "APKModel", "APKConversion", "APKTestSupport", .postgresNIO, .logging,
            ],
            path: "shared/Tests/APKStoreTests",
            swiftSettings: swiftSettings
        ),

        // Redis (RESP2) over SwiftNIO for the ratelimiter: codec, FIFO connection, self-repairing pool, in-memory fake.
        .target(
            name: "APKRedis",
            dependencies: [
                "APKSupport", .nIOCore, .nIOPosix, .logging,
            ],
            path: "shared/Sources/APKRedis",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "APKRedisTests",
            dependencies: [
                "APKRedis", "APKSupport", "APKTestSupport", .nIOCore, .nIOEmbedded,
            ],
            path: "shared/Tests/APKRedisTests",
            swiftSettings: swiftSettings
        ),

        // MARK: xDS core (snapshot cache, ADS state machine and server)
        .target(
            name: "APKXDS",
            dependencies: [
                "APKSupport", "EnvoyProtos", "EnvoyGRPC", .crypto, .gRPCCore, .gRPCNIOTransportHTTP2, .swiftProtobuf,
                .logging, .metrics, .serviceLifecycle,
            ],
            path: "shared/Sources/APKXDS",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "APKXDSTests",
            dependencies: [
                "APKXDS", "APKSupport", "EnvoyProtos", "EnvoyGRPC", "APKProtos", .gRPCCore, .gRPCInProcessTransport,
                .gRPCNIOTransportHTTP2, .swiftProtobuf, .logging, .serviceLifecycle,
            ],
            path: "shared/Tests/APKXDSTests",
            swiftSettings: swiftSettings
        ),

        // MARK: deployer service
        .target(
            name: "APKDeployer",
            dependencies: [
                "APKModel", "APKConversion", "APKAuth", "APKAuthPlan", "APKHTTPClient", "APKRuntime", "APKStore", "APKSupport",
                .hummingbird, .crypto, .cryptoExtras, .asyncHTTPClient, .serviceLifecycle, .logging, .metrics,
                .nIOCore,
            ],
            path: "services/deployer/Sources/APKDeployer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "APKDeployerMain",
            dependencies: [
                "APKDeployer", "APKRuntime",
            ],
            path: "services/deployer/Sources/APKDeployerMain",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "APKDeployerTests",
            dependencies: [
                "APKDeployer", "APKAuth", "APKHTTPClient", "APKModel", "APKRuntime", "APKStore", "APKSupport",
                .hummingbird, .hummingbirdTesting, .jWTKit, .logging,
            ],
            path: "services/deployer/Tests/APKDeployerTests",
            swiftSettings: swiftSettings
        ),

        // MARK: adapter (store → IR → xDS; ADS server for the router)
        .target(
            name: "APKAdapter",
            dependencies: [
                "APKAuth", "APKAuthPlan", "APKModel", "APKProtos", "APKRuntime", "APKStore", "APKSupport", "APKXDS",
                "EnvoyProtos", .crypto, .swiftProtobuf, .serviceLifecycle, .logging, .metrics,
            ],
            path: "services/adapter/Sources/APKAdapter",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "APKAdapterMain",
            dependencies: [
                "APKAdapter", "APKRuntime",
            ],
            path: "services/adapter/Sources/APKAdapterMain",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "APKAdapterTests",
            dependencies: [
                "APKAdapter", "APKAuth", "APKRuntime", "APKAuthPlan", "APKModel", "APKConversion", "APKProtos", "APKStore",
                "APKSupport", "APKXDS", "EnvoyProtos", "APKTestSupport", "APKTestTokens", .swiftProtobuf, .logging,
                .serviceLifecycle,
            ],
            path: "services/adapter/Tests/APKAdapterTests",
            swiftSettings: swiftSettings
        ),

        // MARK: enforcer (Envoy ext_authz: the auth plan evaluated in Swift, `enforcer` mode)
        .target(
            name: "APKEnforcer",
            dependencies: [
                "APKAuth", "APKAuthPlan", "APKHTTPClient", "APKModel", "APKProtos", "APKRuntime", "APKSupport",
                "APKUnaryGRPC", "APKXDS", "EnvoyGRPC", "EnvoyProtos", .asyncHTTPClient, .crypto, .cryptoExtras,
                .gRPCCore, .hummingbird, .nIOCore, .logging, .metrics, .serviceLifecycle, .swiftProtobuf,
            ],
            path: "services/enforcer/Sources/APKEnforcer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "APKEnforcerMain",
            dependencies: ["APKEnforcer", "APKRuntime"],
            path: "services/enforcer/Sources/APKEnforcerMain",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "APKEnforcerTests",
            dependencies: [
                "APKEnforcer", "APKAuth", "APKAuthPlan", "APKModel", "APKProtos", "APKTestTokens", "EnvoyProtos",
                .cryptoExtras, .logging, .swiftProtobuf,
            ],
            path: "services/enforcer/Tests/APKEnforcerTests",
            swiftSettings: swiftSettings
        ),

        // MARK: ratelimiter (Envoy RLS: fixed windows counted in Redis, rules from the adapter's discovery)
        .target(name: "APKRatelimiter", dependencies: [
                "APKProtos", "APKRedis", "APKRuntime", "APKSupport", "APKUnaryGRPC", "APKXDS", "EnvoyGRPC", "EnvoyProtos",
                .gRPCCore, .logging, .metrics, .serviceLifecycle, .swiftProtobuf,
            ],
            path: "services/ratelimiter/Sources/APKRatelimiter", swiftSettings: swiftSettings),
        .executableTarget(name: "APKRatelimiterMain", dependencies: ["APKRatelimiter", "APKRuntime"],
                          path: "services/ratelimiter/Sources/APKRatelimiterMain", swiftSettings: swiftSettings),
        .testTarget(name: "APKRatelimiterTests", dependencies: [
                "APKRatelimiter", "APKProtos", "APKRedis", "APKRuntime", "APKSupport", "APKTestSupport", "APKXDS",
                "EnvoyGRPC", "EnvoyProtos", .gRPCCore,
                .gRPCNIOTransportHTTP2,
                .logging, .swiftProtobuf,
                .serviceLifecycle,
            ],
            path: "services/ratelimiter/Tests/APKRatelimiterTests", swiftSettings: swiftSettings),

        // MARK: config service
        .target(
            name: "APKConfig",
            dependencies: [
                "APKModel", "APKConversion", "APKRuntime", "APKSupport", "CZlib", .hummingbird,
                .asyncHTTPClient, .serviceLifecycle, .logging, .metrics, .nIOCore, .nIOHTTP1,
            ],
            path: "services/config/Sources/APKConfig",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "APKConfigMain",
            dependencies: [
                "APKConfig", "APKRuntime",
            ],
            path: "services/config/Sources/APKConfigMain",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "APKConfigTests",
            dependencies: [
                "APKConfig", "APKModel", "APKConversion", "APKRuntime", .hummingbird, .hummingbirdTesting, .logging,
                .nIOCore, .nIOPosix,
            ],
            path: "services/config/Tests/APKConfigTests",
            swiftSettings: swiftSettings
        ),

        // MARK: cross-service integration tests (real binaries, real PostgreSQL; see test/Integration/README.md)
        .testTarget(
            name: "APKIntegrationTests",
            dependencies: [
                "APKAuth", "APKAuthPlan", "APKModel", "APKStore", "APKTestSupport", "APKTestTokens", .logging,
            ],
            path: "test/Integration",
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),

        // MARK: httpbin-like echo backend for gateway tests and the local stack
        .target(
            name: "APKEcho",
            dependencies: [
                "APKModel", "APKRuntime", "APKSupport", .hummingbird, .nIOCore, .logging, .serviceLifecycle,
            ],
            path: "test/EchoBackend/APKEcho",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "APKEchoMain",
            dependencies: ["APKEcho", "APKRuntime"],
            path: "test/EchoBackend/APKEchoMain",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "APKEchoTests",
            dependencies: [
                "APKEcho", "APKModel", "APKConversion", .hummingbird, .hummingbirdTesting, .nIOCore,
            ],
            path: "test/EchoBackend/APKEchoTests",
            swiftSettings: swiftSettings
        ),

        // MARK: test support and benchmarks
        .target(
            name: "APKTestSupport",
            dependencies: ["APKRedis", "APKSupport", .logging],
            path: "test/Sources/APKTestSupport",
            swiftSettings: swiftSettings
        ),
        // Test tokens: valid and hostile JWTs signed by a test key, and its JWKS (evaluator and router tests).
        .target(
            name: "APKTestTokens",
            dependencies: [
                "APKAuth", "APKModel", .crypto, .cryptoExtras,
            ],
            path: "test/Sources/APKTestTokens",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "APKBench",
            dependencies: [
                "APKAuthPlan", "APKModel", "APKConversion", "APKStore", "APKUnaryGRPC", "APKXDS", "EnvoyGRPC", "EnvoyProtos",
                .logging, .nIOCore, .asyncHTTPClient, .nIOHTTP1, .gRPCCore, .gRPCNIOTransportHTTP2,
            ],
            path: "bench/APKBench",
            swiftSettings: swiftSettings
        ),
    ]
)

// Products of the package dependencies, by their module name (keeps the target lists short).
extension Target.Dependency {
    static let asyncHTTPClient: Self = .product(name: "AsyncHTTPClient", package: "async-http-client")
    static let crypto: Self = .product(name: "Crypto", package: "swift-crypto")
    static let cryptoExtras: Self = .product(name: "CryptoExtras", package: "swift-crypto")
    static let gRPCCore: Self = .product(name: "GRPCCore", package: "grpc-swift-2")
    static let gRPCInProcessTransport: Self = .product(name: "GRPCInProcessTransport", package: "grpc-swift-2")
    static let gRPCNIOTransportHTTP2: Self = .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport")
    static let gRPCProtobuf: Self = .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf")
    static let hummingbird: Self = .product(name: "Hummingbird", package: "hummingbird")
    static let hummingbirdCore: Self = .product(name: "HummingbirdCore", package: "hummingbird")
    static let hummingbirdTLS: Self = .product(name: "HummingbirdTLS", package: "hummingbird")
    static let hummingbirdTesting: Self = .product(name: "HummingbirdTesting", package: "hummingbird")
    static let jWTKit: Self = .product(name: "JWTKit", package: "jwt-kit")
    static let logging: Self = .product(name: "Logging", package: "swift-log")
    static let metrics: Self = .product(name: "Metrics", package: "swift-metrics")
    static let nIOCore: Self = .product(name: "NIOCore", package: "swift-nio")
    static let nIOEmbedded: Self = .product(name: "NIOEmbedded", package: "swift-nio")
    static let nIOHPACK: Self = .product(name: "NIOHPACK", package: "swift-nio-http2")
    static let nIOHTTP1: Self = .product(name: "NIOHTTP1", package: "swift-nio")
    static let nIOHTTP2: Self = .product(name: "NIOHTTP2", package: "swift-nio-http2")
    static let nIOHTTPTypes: Self = .product(name: "NIOHTTPTypes", package: "swift-nio-extras")
    static let nIOPosix: Self = .product(name: "NIOPosix", package: "swift-nio")
    static let nIOSSL: Self = .product(name: "NIOSSL", package: "swift-nio-ssl")
    static let openAPIKit: Self = .product(name: "OpenAPIKit", package: "OpenAPIKit")
    static let openAPIKit30: Self = .product(name: "OpenAPIKit30", package: "OpenAPIKit")
    static let openAPIKitCompat: Self = .product(name: "OpenAPIKitCompat", package: "OpenAPIKit")
    static let postgresNIO: Self = .product(name: "PostgresNIO", package: "postgres-nio")
    static let prometheus: Self = .product(name: "Prometheus", package: "swift-prometheus")
    static let serviceLifecycle: Self = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
    static let swiftProtobuf: Self = .product(name: "SwiftProtobuf", package: "swift-protobuf")
    static let unixSignals: Self = .product(name: "UnixSignals", package: "swift-service-lifecycle")
    static let yams: Self = .product(name: "Yams", package: "Yams")
}
