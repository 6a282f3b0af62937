// swift-tools-version: 6.1
// A libFuzzer target for the MIME parser; not part of the main package's build. Run it with scripts/fuzz.sh.
import PackageDescription

let package = Package(
    name: "PostdeskFuzz",
    dependencies: [
        .package(name: "postdesk", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "MailParserFuzzer",
            dependencies: [.product(name: "MailMessage", package: "postdesk")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
