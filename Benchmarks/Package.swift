// swift-tools-version: 6.1
// Benchmarks for postdesk, a separate package so that the main build does not depend on package-benchmark.
// Run: swift package --package-path Benchmarks benchmark   (or Benchmarks/run.sh, which also runs the Python baseline)
import PackageDescription

let package = Package(
    name: "PostdeskBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "postdesk", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "MailParserBenchmarks",
            dependencies: [
                "HostileInputs",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MailMessage", package: "postdesk"),
            ],
            path: "Benchmarks/MailParserBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The steps of intake one by one: IMAP FETCH reading, store writes, router decisions, notifications.
        .executableTarget(
            name: "IntakeBenchmarks",
            dependencies: [
                "IntakeFixtures",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MailClients", package: "postdesk"),
                .product(name: "MailMessage", package: "postdesk"),
                .product(name: "ServiceDesk", package: "postdesk"),
            ],
            path: "Benchmarks/IntakeBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Store intake (receive + process) with synchronous=FULL and NORMAL: what durable commits cost.
        .executableTarget(
            name: "IntakeProfile",
            dependencies: ["IntakeFixtures", .product(name: "ServiceDesk", package: "postdesk")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The store the intake benchmarks and IntakeProfile set up alike.
        .target(
            name: "IntakeFixtures", dependencies: [.product(name: "ServiceDesk", package: "postdesk")],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // Hostile mail shapes, shared by the benchmarks and HostileProfile.
        .target(name: "HostileInputs", swiftSettings: [.swiftLanguageMode(.v6)]),
        // One hostile input parsed without the harness: wall clock of any commit, and callgrind.
        .executableTarget(
            name: "HostileProfile",
            dependencies: ["HostileInputs", .product(name: "MailMessage", package: "postdesk")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The same parse loop without the harness, for valgrind --tool=callgrind and perf.
        .executableTarget(
            name: "ParseProfile",
            dependencies: [.product(name: "MailMessage", package: "postdesk")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
