// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "LifeStrands",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lifestrands", targets: ["lifestrands"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // TLS to PostgreSQL (postgres-nio already builds it).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // OTLP over HTTP only: the gRPC exporter would bring gRPC and its build along.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .target(name: "LifeStrands", resources: [.copy("Resources/analysis-vocabulary.json")], swiftSettings: swiftSettings),
        // llama.cpp is built by `make setup`; its llama.pc (found through PKG_CONFIG_PATH) gives the flags.
        .systemLibrary(name: "CLlama", pkgConfig: "llama"),
        .target(
            name: "LlamaEngine",
            dependencies: ["CLlama", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LifeStrandsStore",
            dependencies: [
                "LifeStrands", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // The pool's own error, when it gives up connecting.
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LifeStrandsServices",
            dependencies: [
                "LifeStrands", "LifeStrandsStore", "LlamaEngine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                // The gateway's WebSocket to the chat service.
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // Alert webhooks.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            resources: [.copy("Public"), .copy("Resources/openapi.json"), .copy("Resources/alert-rules.json")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "lifestrands",
            dependencies: [
                "LifeStrandsServices", "LifeStrands", "LifeStrandsStore", "LlamaEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // bench-vectors talks to PostgreSQL directly.
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "TestSupport", dependencies: ["LifeStrands"], path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(
            name: "LifeStrandsTests", dependencies: ["LifeStrands", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "LlamaEngineTests",
            dependencies: ["LlamaEngine", "LifeStrands", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LifeStrandsStoreTests",
            dependencies: [
                "LifeStrandsStore", "LifeStrands", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LifeStrandsServicesTests",
            dependencies: [
                "LifeStrandsServices", "LifeStrandsStore", "LifeStrands", "LlamaEngine", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
