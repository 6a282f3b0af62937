import NIOCore
import NIOTestUtils
import Testing

@testable import MailClients

/// Bytes in, complete frames out.
struct FrameFixture: Sendable, CustomTestStringConvertible {
    let name: String
    let input: String
    let frames: [String]
    var testDescription: String { name }
}

@Suite("IMAP framing")
struct IMAPFrameDecoderTests {
    static let fixtures: [FrameFixture] = [
        FrameFixture(name: "one line", input: "* OK ready\r\n", frames: ["* OK ready\r\n"]),
        FrameFixture(
            name: "two lines in one read",
            input: "* 3 EXISTS\r\nA1 OK done\r\n",
            frames: ["* 3 EXISTS\r\n", "A1 OK done\r\n"]
        ),
        FrameFixture(name: "incomplete line waits", input: "* OK rea", frames: []),
        FrameFixture(name: "CR without LF waits", input: "* OK ready\r", frames: []),
        FrameFixture(
            name: "bare LF does not end a line",
            input: "* OK a\nb\r\n",
            frames: ["* OK a\nb\r\n"]
        ),
        FrameFixture(
            name: "a literal is part of its response",
            input: "* 1 FETCH (BODY[] {5}\r\nab\r\nc UID 7)\r\nA2 OK\r\n",
            frames: ["* 1 FETCH (BODY[] {5}\r\nab\r\nc UID 7)\r\n", "A2 OK\r\n"]
        ),
        FrameFixture(
            name: "several literals in one response",
            input: "* 1 FETCH (BODY[HEADER] {3}\r\nabc BODY[TEXT] {4}\r\n{2}\r\n)\r\n",
            frames: ["* 1 FETCH (BODY[HEADER] {3}\r\nabc BODY[TEXT] {4}\r\n{2}\r\n)\r\n"]
        ),
        FrameFixture(
            name: "an empty literal",
            input: "* 1 FETCH (BODY[] {0}\r\n)\r\n",
            frames: ["* 1 FETCH (BODY[] {0}\r\n)\r\n"]
        ),
        FrameFixture(name: "literal not yet complete", input: "* 1 FETCH (BODY[] {10}\r\nabc", frames: []),
        FrameFixture(
            name: "literal containing something that looks like a literal",
            input: "* 1 FETCH (BODY[] {6}\r\n{99}\r\n)\r\n",
            frames: ["* 1 FETCH (BODY[] {6}\r\n{99}\r\n)\r\n"]
        ),
        FrameFixture(
            name: "braces not at the end are text",
            input: "* OK {5} is not a literal here\r\n",
            frames: ["* OK {5} is not a literal here\r\n"]
        ),
    ]

    @Test("splits the byte stream into whole responses", arguments: fixtures)
    func decodesFixtures(_ fixture: FrameFixture) throws {
        for chunkSize in [1, 2, 3, 7, 1000] {
            var decoder = IMAPFrameDecoder()
            var buffer = ByteBuffer()
            var frames: [String] = []
            let bytes = Array(fixture.input.utf8)
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + chunkSize)
                buffer.writeBytes(bytes[offset..<end])
                offset = end
                while let frame = try decoder.decode(buffer: &buffer) {
                    frames.append(String(decoding: frame.bytes, as: UTF8.self))
                }
            }
            #expect(frames == fixture.frames, "chunk size \(chunkSize)")
        }
    }

    @Test("passes NIO's ByteToMessageDecoderVerifier")
    func verifier() throws {
        let pairs: [(String, [IMAPFrame])] = [
            ("* OK ready\r\n", [IMAPFrame("* OK ready\r\n")]),
            (
                "* 1 FETCH (UID 4 BODY[] {4}\r\na\r\nb)\r\nA1 OK\r\n",
                [IMAPFrame("* 1 FETCH (UID 4 BODY[] {4}\r\na\r\nb)\r\n"), IMAPFrame("A1 OK\r\n")]
            ),
            ("+ idling\r\n", [IMAPFrame("+ idling\r\n")]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: pairs,
            decoderFactory: { IMAPFrameDecoder() }
        )
    }

    struct LimitFixture: Sendable, CustomTestStringConvertible {
        let name: String
        let input: String
        let limits: IMAPFrameLimits
        var testDescription: String { name }
    }

    static let limitFixtures: [LimitFixture] = [
        LimitFixture(
            name: "a huge literal size is refused before any byte of it arrives",
            input: "* 1 FETCH (BODY[] {99999999999}\r\n",
            limits: IMAPFrameLimits()
        ),
        LimitFixture(
            name: "a literal size with more digits than fit an Int",
            input: "* 1 FETCH (BODY[] {123456789012345678901234567890}\r\n",
            limits: IMAPFrameLimits()
        ),
        LimitFixture(
            name: "a literal over a configured limit",
            input: "* 1 FETCH (BODY[] {101}\r\n",
            limits: IMAPFrameLimits(maxLiteralSize: 100)
        ),
        LimitFixture(
            name: "a line without CRLF beyond the line limit",
            input: "* OK " + String(repeating: "x", count: 200),
            limits: IMAPFrameLimits(maxLineLength: 100)
        ),
        LimitFixture(
            name: "a complete line beyond the line limit",
            input: "* OK " + String(repeating: "x", count: 200) + "\r\n",
            limits: IMAPFrameLimits(maxLineLength: 100)
        ),
        LimitFixture(
            name: "too many literals in one response",
            input: "* X {1}\r\na{1}\r\nb{1}\r\nc\r\n",
            limits: IMAPFrameLimits(maxLiteralsPerFrame: 2)
        ),
        LimitFixture(
            name: "a response over the frame limit",
            input: "* X {60}\r\n",
            limits: IMAPFrameLimits(maxLiteralSize: 100, maxFrameSize: 50)
        ),
    ]

    @Test("hostile sizes throw responseTooLarge instead of buffering", arguments: limitFixtures)
    func limits(_ fixture: LimitFixture) {
        var decoder = IMAPFrameDecoder(limits: fixture.limits)
        var buffer = ByteBuffer(string: fixture.input)
        #expect {
            while try decoder.decode(buffer: &buffer) != nil {}
        } throws: { error in
            (error as? MailClientError)?.code == .responseTooLarge
        }
    }

    @Test("a partial frame at EOF is left over, not an error")
    func decodeLastLeavesPartial() throws {
        var decoder = IMAPFrameDecoder()
        var buffer = ByteBuffer(string: "* OK partial")
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true) == nil)
    }
}
