// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Entente",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Entente", targets: ["Entente"]),
        .executable(name: "entente", targets: ["entente"]),
        .executable(name: "entente-bench", targets: ["entente-bench"]),
        .executable(name: "entente-example-pipeline", targets: ["entente-example-pipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
    ],
    targets: [
        // C glue: the system libsodium, found with pkg-config.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
        ),
        // Pure CRDT core: ids, HLC, values, registers, objects, operations, authority, audiences. No I/O, no crypto.
        .target(name: "EntenteCore", swiftSettings: strict),
        // Safe Swift over the libsodium calls Entente uses.
        .target(name: "EntenteCrypto", dependencies: ["CSodium"], swiftSettings: strict),
        // Byte formats: operation batches, envelopes, partner cards.
        .target(name: "EntenteWire", dependencies: ["EntenteCore", "EntenteCrypto"], swiftSettings: strict),
        // SQLite persistence through GRDB.
        .target(
            name: "EntenteStore",
            dependencies: [
                "EntenteCore", "EntenteWire", "EntenteCrypto", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        // Sync: the transport-independent protocol state machine, summaries, bundle files, and the TCP
        // transport (SwiftNIO) with its authenticated, encrypted handshake.
        .target(
            name: "EntenteSync",
            dependencies: [
                "EntenteCore", "EntenteWire", "EntenteCrypto",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Ecosystem objects: types, fields, default visibilities.
        .target(name: "EntenteDomain", dependencies: ["EntenteCore"], swiftSettings: strict),
        // Reports: KPIs (pipeline, revenue, sourced vs influenced, win ratio, cycle, velocity) and their
        // table, JSON, CSV and self-contained HTML/SVG renderings. Pure: records in, text out.
        .target(name: "EntenteReports", dependencies: ["EntenteCore"], swiftSettings: strict),
        // CRM interchange: a streaming RFC 4180 CSV reader and writer, column mappings, lenient CRM value formats.
        .target(name: "EntenteCSV", dependencies: ["EntenteCore", "EntenteDomain"], swiftSettings: strict),
        // The public face: Node.
        .target(
            name: "Entente",
            dependencies: [
                "EntenteCore", "EntenteCrypto", "EntenteWire", "EntenteStore", "EntenteSync", "EntenteDomain",
                "EntenteReports",
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "entente",
            dependencies: [
                "Entente", "EntenteCore", "EntenteDomain", "EntenteCSV", "EntenteReports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // The benchmark: the joint-pipeline workload against the physical limits, measured in one run.
        .executableTarget(
            name: "entente-bench",
            dependencies: [
                "Entente", "EntenteCrypto", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // The library example: a small joint pipeline and its reports (`swift run entente-example-pipeline`).
        .executableTarget(
            name: "entente-example-pipeline",
            dependencies: ["Entente", "EntenteCore", "EntenteDomain", "EntenteReports"],
            path: "Examples/JointPipeline",
            swiftSettings: strict
        ),
        // Fuzzing: one entry point per parser or decoder that reads outside bytes, replayed over the corpus by
        // EntenteFuzzTests on every test run; libFuzzer executables only with ENTENTE_FUZZ=1 (below, and
        // Fuzz/README.md).
        .target(
            name: "EntenteFuzz",
            dependencies: ["EntenteCore", "EntenteCrypto", "EntenteWire", "EntenteSync", "EntenteCSV"],
            swiftSettings: strict
        ),
        .target(name: "EntenteTestSupport", dependencies: ["EntenteCore"], path: "Tests/EntenteTestSupport"),
        .testTarget(name: "EntenteCoreTests", dependencies: ["EntenteCore", "EntenteTestSupport"]),
        .testTarget(name: "EntenteCryptoTests", dependencies: ["EntenteCrypto"]),
        .testTarget(
            name: "EntenteWireTests",
            dependencies: ["EntenteWire", "EntenteCore", "EntenteCrypto", "EntenteTestSupport"]
        ),
        .testTarget(
            name: "EntenteStoreTests",
            dependencies: ["EntenteStore", "EntenteWire", "EntenteCore", "EntenteCrypto", "EntenteTestSupport"]
        ),
        .testTarget(
            name: "EntenteSyncTests",
            dependencies: ["EntenteSync", "EntenteWire", "EntenteCore", "EntenteCrypto", "EntenteTestSupport"]
        ),
        .testTarget(name: "EntenteDomainTests", dependencies: ["EntenteDomain", "EntenteCore"]),
        .testTarget(
            name: "EntenteReportsTests",
            dependencies: ["EntenteReports", "EntenteCore", "EntenteTestSupport"]
        ),
        .testTarget(name: "EntenteCSVTests", dependencies: ["EntenteCSV", "EntenteDomain", "EntenteCore"]),
        .testTarget(
            name: "EntenteTests",
            dependencies: [
                "Entente", "EntenteWire", "EntenteSync", "EntenteCrypto", "EntenteCore", "EntenteDomain",
                "EntenteTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(name: "EntenteFuzzTests", dependencies: ["EntenteFuzz"]),
        .testTarget(
            name: "EntenteCLITests",
            dependencies: ["entente", "entente-bench", "entente-example-pipeline", "EntenteTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// MARK: - Fuzz executables (libFuzzer): declared only with ENTENTE_FUZZ=1, so normal builds never link them.
// `make fuzz` builds them with `-sanitize=fuzzer,address` in .build-fuzz (see Fuzz/README.md).
if Context.environment["ENTENTE_FUZZ"] == "1" {
    let fuzzTargets = [
        "envelope", "bundle", "operations", "partner-card", "summary", "handshake", "sync-session", "csv-import",
        "csv-mapping",
    ]
    for name in fuzzTargets {
        package.targets.append(
            .executableTarget(
                name: "fuzz-\(name)",
                dependencies: ["EntenteFuzz"],
                path: "Fuzz/Targets/\(name)",
                swiftSettings: strict
            )
        )
        package.products.append(.executable(name: "fuzz-\(name)", targets: ["fuzz-\(name)"]))
    }
}
