// Parses the corpus a number of times without the benchmark harness, for profilers:
//   swift build -c release --package-path Benchmarks --product ParseProfile
//   valgrind --tool=callgrind Benchmarks/.build/release/ParseProfile [passes] [corpus directory]
import Foundation
import MailMessage

@main
enum ParseProfile {
    static func main() {
        let arguments = CommandLine.arguments
        let passes = arguments.count > 1 ? Int(arguments[1]) ?? 20 : 20
        let directory =
            arguments.count > 2
            ? URL(fileURLWithPath: arguments[2])
            : URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Tests/MailMessageTests/Fixtures/Corpus")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter {
            $0.hasSuffix(".eml")
        }.sorted()
        let corpus = names.compactMap {
            FileManager.default.contents(atPath: directory.appendingPathComponent($0).path).map { [UInt8]($0) }
        }
        let bytes = corpus.reduce(0) { $0 + $1.count }
        var sink = 0
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<passes {
            for raw in corpus {
                let mail = MailParser.parse(raw)
                sink &+= mail.text.utf8.count &+ mail.replyText.utf8.count &+ mail.attachments.count
            }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let messages = Double(corpus.count * passes)
        print(
            "\(corpus.count) messages × \(passes) passes in \(seconds) s: \(Int(messages / seconds)) messages/s, "
                + "\(Double(bytes * passes) / seconds / 1e6) MB/s (sink \(sink))")
    }
}
