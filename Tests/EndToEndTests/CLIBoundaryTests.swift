import Foundation
import Testing

/// The CLI knows the API, not the store: its sources import the wire models (PostdeskWire) and the admin client
/// (AdminAPI), never ServiceDesk or EmailChannel, and its target does not depend on them.
@Suite("The CLI's boundary")
struct CLIBoundaryTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("no source of the CLI imports ServiceDesk or EmailChannel")
    func imports() throws {
        let directory = Self.root.appendingPathComponent("Sources/postdesk")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter {
            $0.hasSuffix(".swift")
        }
        #expect(files.count > 20)
        var offenders: [String] = []
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                if words.contains("import"), words.contains(where: { ["ServiceDesk", "EmailChannel"].contains($0) }) {
                    offenders.append("\(file): \(line)")
                }
            }
        }
        #expect(offenders == [])
    }

    @Test("the CLI's target depends on neither")
    func dependencies() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let start = try #require(manifest.range(of: ".executableTarget("))
        let end = try #require(manifest.range(of: "swiftSettings", range: start.upperBound..<manifest.endIndex))
        let target = manifest[start.upperBound..<end.lowerBound]
        #expect(target.contains("\"PostdeskWire\""))
        #expect(!target.contains("\"ServiceDesk\""))
        #expect(!target.contains("\"EmailChannel\""))
    }
}
