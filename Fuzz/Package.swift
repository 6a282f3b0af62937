// swift-tools-version: 6.1
// libFuzzer targets for the MIME parser and the IMAP, POP3 and SMTP reading sides; not part of the main package's
// build. Run one with scripts/fuzz.sh TARGET [SECONDS].
import PackageDescription

let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "PostdeskFuzz",
    dependencies: [
        .package(name: "postdesk", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "MailParserFuzzer",
            dependencies: [.product(name: "MailMessage", package: "postdesk")],
            swiftSettings: swiftSettings
        ),
        // The decoders are internal to MailClients: the fuzzers reach them with `@testable import`, which works
        // because scripts/fuzz.sh builds with -enable-testing.
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "IMAPFuzzer",
            dependencies: [
                "FuzzSupport",
                .product(name: "MailClients", package: "postdesk"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "POP3Fuzzer",
            dependencies: [
                "FuzzSupport",
                .product(name: "MailClients", package: "postdesk"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "SMTPFuzzer",
            dependencies: [
                "FuzzSupport",
                .product(name: "MailClients", package: "postdesk"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
