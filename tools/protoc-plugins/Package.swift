// swift-tools-version:6.2
// Build-time tools only: the protoc plugins that scripts/protos/generate.sh runs. Kept out of the app graph
// (its own manifest, its own .build). Pin together with the runtime versions in ../../Package.swift.
import PackageDescription

let package = Package(
    name: "apk-protoc-plugins",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "2.4.1"),
        // Pinned because its GRPCCodeGen writes the stubs; SwiftPM warns it is "not used by any target" (harmless).
        .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
    ],
    targets: [
        // SwiftPM builds products of dependencies only when a root target needs them; this empty target
        // exists so that `swift build --product protoc-gen-swift` has a root package to resolve.
        .target(name: "Placeholder", path: "Sources/Placeholder")
    ]
)
