import Foundation
import NIOCore
import Testing

@testable import MailClients

// The CI-sized fuzzing: every seed in Fuzz/Corpus/<target>/ and every input the fuzzers found
// (Fixtures/FuzzCrashers/<target>/) is replayed through the real decoders with the fuzzers' own checks (see
// Fuzz/Sources/*Fuzzer): the result must not depend on how the bytes arrive, and anything wrong must be a
// MailClientError with the code the layer documents, never a crash. Files are read relative to this source file.

/// One file of fuzzer input: a seed or a crasher.
struct FuzzInput: Sendable, CustomTestStringConvertible {
    /// `imap`, `pop3` or `smtp`.
    let target: String
    /// `seed` or `crasher`.
    let kind: String
    let name: String
    let bytes: [UInt8]
    var testDescription: String { "\(target) \(kind) \(name)" }
}

enum FuzzFiles {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let crashersDirectory = testsDirectory.appendingPathComponent("Fixtures/FuzzCrashers")
    static let corpusDirectory = testsDirectory.appendingPathComponent("../../Fuzz/Corpus").standardized

    /// Every file in `directory`, by name; an empty list when the directory is missing.
    static func files(in directory: URL, target: String, kind: String) -> [FuzzInput] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().compactMap { name in
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else {
                return nil
            }
            return FuzzInput(target: target, kind: kind, name: name, bytes: Array(data))
        }
    }

    static func seeds(_ target: String) -> [FuzzInput] {
        files(in: corpusDirectory.appendingPathComponent(target), target: target, kind: "seed")
    }

    static func crashers(_ target: String) -> [FuzzInput] {
        files(in: crashersDirectory.appendingPathComponent(target), target: target, kind: "crasher")
    }

    static func all(_ target: String) -> [FuzzInput] { seeds(target) + crashers(target) }

    /// One crasher by name; fails the test when it is missing.
    static func crasher(_ target: String, _ name: String) throws -> [UInt8] {
        try #require(crashers(target).first { $0.name == name }, "missing fixture \(target)/\(name)").bytes
    }
}

/// What a decoder made of a byte stream (the fuzzers' FeedOutcome).
struct ReplayOutcome<Message> {
    var messages: [Message] = []
    var error: (any Error)?
    /// How many input bytes had been handed to the decoder when it threw.
    var fedWhenFailed: Int?
    /// Meaningful only without an error (see FuzzSupport's FeedOutcome).
    var leftover = 0

    var errorCode: MailClientError.Code? { (error as? MailClientError)?.code }
}

/// Plays `input` into `decoder` in reads of `chunkSize` bytes, as ByteToMessageHandler does; with `compact`, read bytes
/// are discarded after every read.
func replay<Decoder: NIOSingleStepByteToMessageDecoder>(
    _ input: [UInt8], chunkSize: Int, compact: Bool = false, into decoder: inout Decoder
) -> ReplayOutcome<Decoder.InboundOut> {
    var outcome = ReplayOutcome<Decoder.InboundOut>()
    var buffer = ByteBuffer()
    var offset = 0
    do {
        while offset < input.count {
            let end = offset + min(input.count - offset, max(1, chunkSize))
            buffer.writeBytes(input[offset..<end])
            offset = end
            while let message = try decoder.decode(buffer: &buffer) { outcome.messages.append(message) }
            if compact { buffer.discardReadBytes() }
        }
        while let message = try decoder.decodeLast(buffer: &buffer, seenEOF: true) { outcome.messages.append(message) }
    } catch {
        outcome.error = error
        outcome.fedWhenFailed = offset
    }
    outcome.leftover = buffer.readableBytes + (input.count - offset)
    return outcome
}

/// The fuzzers' read patterns: all at once, one byte per read, and 7-byte reads with compaction.
let replayReadPatterns: [(chunkSize: Int, compact: Bool)] = [(Int.max, false), (1, false), (7, true)]

/// The IMAP fuzzer's limit sets: production, and tight enough for every limit to be reached by a small input.
let imapReplayLimits: [IMAPFrameLimits] = [
    IMAPFrameLimits(),
    IMAPFrameLimits(maxLineLength: 200, maxLiteralSize: 1000, maxLiteralsPerFrame: 3, maxFrameSize: 2000),
]
/// The POP3 fuzzer's limit sets (status line, body).
let pop3ReplayLimits: [(statusLine: Int, body: Int)] = [(4096, 64 << 20), (64, 512)]
/// The SMTP fuzzer's limit sets (line length, line count).
let smtpReplayLimits: [(lineLength: Int, lineCount: Int)] = [(4096, 200), (64, 4)]

/// A frame and what the parser made of it.
struct ReplayedFrame: Equatable {
    var bytes: [UInt8]
    var response: IMAPResponse?
    var parseError: MailClientError.Code?
}

/// Frames and parses `input` in every read pattern; records an issue for anything the IMAP fuzzer would report.
func replayIMAP(_ input: [UInt8], limits: IMAPFrameLimits) -> (frames: [ReplayedFrame], error: MailClientError.Code?) {
    var first: (frames: [ReplayedFrame], error: MailClientError.Code?, leftover: Int)?
    for pattern in replayReadPatterns {
        var decoder = IMAPFrameDecoder(limits: limits)
        let outcome = replay(input, chunkSize: pattern.chunkSize, compact: pattern.compact, into: &decoder)
        if let error = outcome.error {
            #expect(outcome.errorCode == .responseTooLarge, "frame decoder error \(error)")
        }
        let framed = outcome.messages.flatMap(\.bytes)
        #expect(framed[...] == input.prefix(framed.count), "frames are the bytes received")
        #expect(framed.count + outcome.leftover == input.count)
        let parsed = outcome.messages.map { frame -> ReplayedFrame in
            do {
                return ReplayedFrame(bytes: frame.bytes, response: try IMAPResponseParser.parse(frame))
            } catch {
                let code = (error as? MailClientError)?.code
                #expect(code == .protocolViolation, "parser error \(error)")
                return ReplayedFrame(bytes: frame.bytes, parseError: code)
            }
        }
        if let first {
            #expect(first.frames == parsed, "reads of \(pattern.chunkSize) bytes frame differently")
            #expect(first.error == outcome.errorCode && (outcome.error != nil || first.leftover == outcome.leftover))
        } else {
            first = (parsed, outcome.errorCode, outcome.leftover)
        }
    }
    return (first?.frames ?? [], first?.error)
}

/// The POP3 fuzzer's reading of its input: the first byte's bit i % 8 says whether answer i is multi-line.
func pop3ReplayShapes(_ input: [UInt8]) -> (shapes: [POP3ResponseDecoder.Shape], wire: [UInt8]) {
    guard let header = input.first else { return ([], []) }
    let wire = Array(input.dropFirst())
    let answers = wire.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
    return ((0..<answers).map { (header >> UInt8($0 % 8)) & 1 == 1 ? .multiLine : .singleLine }, wire)
}

/// Decodes `input` with a fresh decoder in every read pattern, runs `check` on each outcome, and expects every
/// pattern to decode what the first did (the same messages, the same error, the same leftover when none).
func replayInEveryPattern<Decoder: NIOSingleStepByteToMessageDecoder>(
    _ input: [UInt8], makeDecoder: () -> Decoder, check: (ReplayOutcome<Decoder.InboundOut>) -> Void
) -> ReplayOutcome<Decoder.InboundOut> where Decoder.InboundOut: Equatable {
    var first: ReplayOutcome<Decoder.InboundOut>?
    for pattern in replayReadPatterns {
        var decoder = makeDecoder()
        let outcome = replay(input, chunkSize: pattern.chunkSize, compact: pattern.compact, into: &decoder)
        check(outcome)
        if let first {
            #expect(first.messages == outcome.messages, "reads of \(pattern.chunkSize) bytes decode differently")
            #expect(
                first.errorCode == outcome.errorCode && (outcome.error != nil || first.leftover == outcome.leftover))
        } else {
            first = outcome
        }
    }
    return first ?? ReplayOutcome()
}

/// Decodes a POP3 fuzzer input in every read pattern; records an issue for anything the POP3 fuzzer would report.
func replayPOP3(_ input: [UInt8], limits: (statusLine: Int, body: Int)) -> ReplayOutcome<POP3Response> {
    let (shapes, wire) = pop3ReplayShapes(input)
    return replayInEveryPattern(
        wire,
        makeDecoder: {
            POP3ResponseDecoder(
                expecting: shapes, maximumStatusLineLength: limits.statusLine, maximumBodySize: limits.body)
        },
        check: { outcome in
            if let error = outcome.error {
                #expect(
                    [.protocolViolation, .responseTooLarge, .connectionClosed].contains(outcome.errorCode),
                    "POP3 decoder error \(error)")
            }
            for response in outcome.messages {
                #expect((response.body?.count ?? 0) <= limits.body)
                _ = (response.responseCode, response.apopTimestamp, response.description)
                if let body = response.body {
                    _ = POP3Capabilities.parse(capaBody: body)
                    for line in POP3Listing.lines(of: body) { _ = try? POP3Listing.parseUniqueID(line) }
                }
            }
        })
}

/// Decodes an SMTP fuzzer input in every read pattern; records an issue for anything the SMTP fuzzer would report.
func replaySMTP(_ input: [UInt8], limits: (lineLength: Int, lineCount: Int)) -> ReplayOutcome<SMTPReply> {
    replayInEveryPattern(
        input,
        makeDecoder: { SMTPReplyDecoder(maximumLineLength: limits.lineLength, maximumLineCount: limits.lineCount) },
        check: { outcome in
            if let error = outcome.error {
                #expect(
                    [.protocolViolation, .responseTooLarge, .connectionClosed].contains(outcome.errorCode),
                    "SMTP decoder error \(error)")
            }
            for reply in outcome.messages {
                #expect(reply.lines.count <= limits.lineCount && (200...599).contains(reply.code))
                _ = (reply.verbatim, reply.enhancedStatusCode, SMTPCapabilities.parse(ehloReply: reply))
            }
        })
}

/// A hostile fixture and the refusal it must meet with production limits.
struct RefusalFixture: Sendable, CustomTestStringConvertible {
    enum Layer: Sendable {
        /// The IMAP frame decoder refuses the stream.
        case imapFrame
        /// Every frame arrives whole and the IMAP parser refuses the last one.
        case imapParse
        case pop3
        case smtp
    }
    let target: String
    let name: String
    let layer: Layer
    let code: MailClientError.Code
    /// The decoder must have thrown by the time it was handed this many bytes (a refusal, not buffering).
    let refusedBy: Int?
    var testDescription: String { "\(target)/\(name)" }
}

@Suite("Fuzz corpus and crasher replay")
struct FuzzReplayTests {
    @Test(
        "IMAP seeds and crashers frame and parse alike in every read pattern, or fail cleanly",
        arguments: FuzzFiles.all("imap"))
    func imap(_ input: FuzzInput) {
        for limits in imapReplayLimits {
            let result = replayIMAP(input.bytes, limits: limits)
            if input.kind == "seed" && limits == IMAPFrameLimits() {
                // Seeds are real transcripts: every response in them must parse.
                #expect(result.error == nil)
                #expect(!result.frames.isEmpty)
                for frame in result.frames {
                    #expect(frame.response != nil, "\(String(decoding: frame.bytes.prefix(80), as: UTF8.self))")
                }
            }
        }
    }

    @Test(
        "POP3 seeds and crashers decode alike in every read pattern, or fail cleanly", arguments: FuzzFiles.all("pop3"))
    func pop3(_ input: FuzzInput) {
        for limits in pop3ReplayLimits {
            let outcome = replayPOP3(input.bytes, limits: limits)
            if input.kind == "seed" && limits.statusLine == 4096 {
                #expect(outcome.error == nil && !outcome.messages.isEmpty && outcome.leftover == 0)
            }
        }
    }

    @Test(
        "SMTP seeds and crashers decode alike in every read pattern, or fail cleanly", arguments: FuzzFiles.all("smtp"))
    func smtp(_ input: FuzzInput) {
        for limits in smtpReplayLimits {
            let outcome = replaySMTP(input.bytes, limits: limits)
            if input.kind == "seed" && limits.lineLength == 4096 {
                #expect(outcome.error == nil && !outcome.messages.isEmpty && outcome.leftover == 0)
            }
        }
    }

    @Test("every target has seeds, and the crashers the fuzzers found are kept")
    func corpusIsThere() throws {
        for target in ["imap", "pop3", "smtp"] {
            #expect(FuzzFiles.seeds(target).count >= 4, "seeds for \(target)")
        }
        _ = try FuzzFiles.crasher("imap", "line-of-exactly-the-limit-split-crlf-f3deb36a.txt")
    }

    static let refusals: [RefusalFixture] = [
        // `{99999999999}`: refused on the announcement line, before any byte of the literal is buffered.
        .init(target: "imap", name: "huge-literal-size.txt", layer: .imapFrame, code: .responseTooLarge, refusedBy: 42),
        .init(
            target: "imap", name: "huge-literal8-size.txt", layer: .imapFrame, code: .responseTooLarge, refusedBy: 42),
        .init(
            target: "imap", name: "literal-size-overflows-int.txt", layer: .imapFrame, code: .responseTooLarge,
            refusedBy: 52),
        .init(
            target: "imap", name: "too-many-literals.txt", layer: .imapFrame, code: .responseTooLarge, refusedBy: nil),
        // 5,000 nested lists in a BODYSTRUCTURE: the line is within the limit, the parser stops at depth 64.
        .init(
            target: "imap", name: "deep-bodystructure-nesting.txt", layer: .imapParse, code: .protocolViolation,
            refusedBy: nil),
        .init(
            target: "imap", name: "deep-search-modseq-nesting.txt", layer: .imapParse, code: .protocolViolation,
            refusedBy: nil),
        .init(
            target: "pop3", name: "over-long-status-line.bin", layer: .pop3, code: .responseTooLarge, refusedBy: 4097),
        .init(target: "pop3", name: "endless-status-line.bin", layer: .pop3, code: .responseTooLarge, refusedBy: 4097),
        .init(target: "smtp", name: "over-long-line.txt", layer: .smtp, code: .responseTooLarge, refusedBy: 4097),
        .init(target: "smtp", name: "endless-line.txt", layer: .smtp, code: .responseTooLarge, refusedBy: 4097),
        .init(target: "smtp", name: "too-many-lines.txt", layer: .smtp, code: .responseTooLarge, refusedBy: nil),
    ]

    @Test("hostile sizes and nesting are refused with an error, not buffered or recursed into", arguments: refusals)
    func refusal(_ fixture: RefusalFixture) throws {
        let bytes = try FuzzFiles.crasher(fixture.target, fixture.name)
        switch fixture.layer {
        case .imapFrame:
            var decoder = IMAPFrameDecoder()
            let outcome = replay(bytes, chunkSize: 1, into: &decoder)
            #expect(outcome.errorCode == fixture.code)
            if let refusedBy = fixture.refusedBy { #expect(try #require(outcome.fedWhenFailed) <= refusedBy) }
        case .imapParse:
            let result = replayIMAP(bytes, limits: IMAPFrameLimits())
            #expect(result.error == nil)
            #expect(result.frames.last?.parseError == fixture.code)
        case .pop3:
            let (shapes, wire) = pop3ReplayShapes(bytes)
            var decoder = POP3ResponseDecoder(expecting: shapes)
            let outcome = replay(wire, chunkSize: 1, into: &decoder)
            #expect(outcome.errorCode == fixture.code)
            if let refusedBy = fixture.refusedBy { #expect(try #require(outcome.fedWhenFailed) <= refusedBy) }
        case .smtp:
            var decoder = SMTPReplyDecoder()
            let outcome = replay(bytes, chunkSize: 1, into: &decoder)
            #expect(outcome.errorCode == fixture.code)
            if let refusedBy = fixture.refusedBy { #expect(try #require(outcome.fedWhenFailed) <= refusedBy) }
        }
    }

    @Test("an IMAP line past the production limit is refused within one read of the limit")
    func imapLongLineAtProductionLimits() {
        let limits = IMAPFrameLimits()
        var decoder = IMAPFrameDecoder(limits: limits)
        var buffer = ByteBuffer(string: "* OK ")
        let read = [UInt8](repeating: UInt8(ascii: "x"), count: 64 << 10)
        var fed = 5
        var refused = false
        while fed <= 2 * limits.maxLineLength {
            buffer.writeBytes(read)
            fed += read.count
            do {
                _ = try decoder.decode(buffer: &buffer)
            } catch {
                refused = (error as? MailClientError)?.code == .responseTooLarge
                break
            }
        }
        #expect(refused)
        #expect(fed <= limits.maxLineLength + read.count + 5)
    }

    @Test("IMAP nesting up to the line limit is refused by the parser at depth 64, not recursed into")
    func imapNestingAtProductionLimits() throws {
        let depth = 400_000
        let line =
            "* 1 FETCH (BODYSTRUCTURE " + String(repeating: "(", count: depth) + String(repeating: ")", count: depth)
            + ")\r\n"
        var decoder = IMAPFrameDecoder()
        var buffer = ByteBuffer(string: line)
        let frame = try #require(try decoder.decode(buffer: &buffer))
        #expect {
            _ = try IMAPResponseParser.parse(frame)
        } throws: { error in
            (error as? MailClientError)?.code == .protocolViolation
        }
    }

    /// The fastest of five runs of `short` and of `long`, interleaved: load on a shared machine only ever adds time,
    /// and interleaving spreads a busy moment over both.
    static func fastest(_ short: () -> Void, _ long: () -> Void) -> (short: Duration, long: Duration) {
        var best = (short: Duration.seconds(3600), long: Duration.seconds(3600))
        for _ in 0..<5 {
            best.short = min(best.short, ContinuousClock().measure(short))
            best.long = min(best.long, ContinuousClock().measure(long))
        }
        return best
    }

    @Test("a line dribbled one byte per read costs linear time in the SMTP and POP3 decoders")
    func dribbledLinesAreLinear() {
        func dribble<Decoder: NIOSingleStepByteToMessageDecoder>(
            _ prefix: String, _ length: Int, _ makeDecoder: @escaping () -> Decoder
        ) -> () -> Void {
            let wire = Array((prefix + String(repeating: "x", count: length) + "\r\n").utf8)
            return {
                var decoder = makeDecoder()
                let outcome = replay(wire, chunkSize: 1, into: &decoder)
                #expect(outcome.messages.count == 1 && outcome.error == nil)
            }
        }
        // Eight times the bytes: about eight times the time when linear, sixty-four when every read rescans the line.
        let smtp = Self.fastest(
            dribble("250 ", 2_000) { SMTPReplyDecoder(maximumLineLength: 1 << 20) },
            dribble("250 ", 16_000) { SMTPReplyDecoder(maximumLineLength: 1 << 20) }
        )
        #expect(smtp.long < smtp.short * 24, "SMTP: \(smtp.short) for 2,000 bytes, \(smtp.long) for 16,000")
        let pop3 = Self.fastest(
            dribble("+OK ", 2_000) { POP3ResponseDecoder(maximumStatusLineLength: 1 << 20) },
            dribble("+OK ", 16_000) { POP3ResponseDecoder(maximumStatusLineLength: 1 << 20) }
        )
        #expect(pop3.long < pop3.short * 24, "POP3: \(pop3.short) for 2,000 bytes, \(pop3.long) for 16,000")
    }
}
