// Parse throughput of MailMessage over the test corpus, and parse times of hostile inputs (slow paths show here,
// never in timed unit tests).
import Benchmark
import Foundation
import HostileInputs
import MailMessage

/// The .eml files of Tests/MailMessageTests/Fixtures/Corpus (or of $POSTDESK_CORPUS), sorted by name.
func loadCorpus() -> [[UInt8]] {
    let directory: URL
    if let override = ProcessInfo.processInfo.environment["POSTDESK_CORPUS"] {
        directory = URL(fileURLWithPath: override)
    } else {
        // This file is Benchmarks/Benchmarks/MailParserBenchmarks/MailParserBenchmarks.swift in the repository.
        directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tests/MailMessageTests/Fixtures/Corpus")
    }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { $0.hasSuffix(".eml") }.sorted().compactMap {
        FileManager.default.contents(atPath: directory.appendingPathComponent($0).path).map { [UInt8]($0) }
    }
}

/// Everything a parsed mail is read for, so that no part of the parse can be optimised away.
@inline(__always)
func consume(_ mail: ParsedMail) {
    blackHole(mail.text.utf8.count &+ mail.replyText.utf8.count &+ (mail.subject?.utf8.count ?? 0))
    blackHole(mail.from.first?.address)
    blackHole(mail.attachments.count)
}

let benchmarks: @Sendable () -> Void = {
    let corpus = loadCorpus()
    let corpusBytes = corpus.reduce(0) { $0 + $1.count }
    if corpus.isEmpty {
        print("no corpus found: set POSTDESK_CORPUS to a directory of .eml files")
        return
    }
    print("corpus: \(corpus.count) messages, \(corpusBytes) bytes, \(corpusBytes / corpus.count) bytes per message")

    // One scaled iteration parses the next corpus message in turn, so `throughput` reads as messages/s; over a
    // whole run every message is parsed about equally often, and MB/s = messages/s × mean message size.
    nonisolated(unsafe) var next = 0
    Benchmark(
        "parse corpus (one message per scaled iteration)",
        configuration: .init(
            metrics: [.throughput, .wallClock, .mallocCountTotal, .instructions],
            scalingFactor: .kilo, maxDuration: .seconds(10), maxIterations: 1_000)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            consume(MailParser.parse(corpus[next]))
            next = next == corpus.count - 1 ? 0 : next + 1
        }
    }

    // One iteration parses every corpus message once: wall clock per pass gives MB/s = corpus bytes / time.
    Benchmark(
        "parse corpus (whole corpus per iteration)",
        configuration: .init(
            metrics: [.throughput, .wallClock], scalingFactor: .one, maxDuration: .seconds(10), maxIterations: 1_000)
    ) { _ in
        for raw in corpus { consume(MailParser.parse(raw)) }
    }

    let hostile: [(String, [UInt8])] = [
        ("hostile: 20,000 unclosed HTML tags", HostileInput.unclosedTags),
        ("hostile: 20,000 encoded words", HostileInput.encodedWords),
        ("hostile: 20,000 MIME parts", HostileInput.mimeParts),
        ("hostile: 64 KB of nested HTML anchors", HostileInput.nestedAnchors64K),
        ("hostile: 1 MB of nested HTML anchors", HostileInput.nestedAnchors1M),
        ("hostile: 100,000 <br> in <pre>", HostileInput.preBreaks),
        ("hostile: 100,000 HTML character references", HostileInput.entities),
        ("hostile: 200,000 format=flowed lines", HostileInput.flowedParagraph),
        ("hostile: 30 nested forwarded messages, 1 MB", HostileInput.forwardedNesting),
    ]
    for (name, raw) in hostile {
        Benchmark(
            name,
            configuration: .init(
                metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident], maxDuration: .seconds(5),
                maxIterations: 50)
        ) { _ in
            consume(MailParser.parse(raw))
        }
    }
}
