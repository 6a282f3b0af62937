// Parses one hostile input (see HostileInputs) without the benchmark harness, for wall-clock figures of any
// commit and for profilers:
//   swift build -c release --package-path Benchmarks --product HostileProfile
//   Benchmarks/.build/release/HostileProfile nested-anchors-64k [repeats]
//   valgrind --tool=callgrind Benchmarks/.build/release/HostileProfile nested-anchors-64k 1
import HostileInputs
import MailMessage

@main
enum HostileProfile {
    static func main() {
        let arguments = CommandLine.arguments
        let names = HostileInput.all.map(\.name)
        guard arguments.count > 1, let input = HostileInput.all.first(where: { $0.name == arguments[1] }) else {
            print("usage: HostileProfile <\(names.joined(separator: "|"))> [repeats]")
            return
        }
        let repeats = arguments.count > 2 ? max(1, Int(arguments[2]) ?? 3) : 3
        let clock = ContinuousClock()
        var best = Duration.seconds(Int64.max)
        var textBytes = 0
        for _ in 0..<repeats {
            let start = clock.now
            let mail = MailParser.parse(input.raw)
            let elapsed = clock.now - start
            best = min(best, elapsed)
            textBytes = mail.text.utf8.count &+ mail.replyText.utf8.count
        }
        let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
        print(
            "\(input.name): \(input.raw.count) bytes, best of \(repeats): \(seconds) s (text and reply \(textBytes) bytes)"
        )
    }
}
