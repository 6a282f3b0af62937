import Foundation
import MailClients
import Testing

/// The public reader the benchmarks use: the same frames and messages whatever the read sizes.
@Suite("IMAP response reader")
struct IMAPResponseReaderTests {
    /// Two FETCH responses with literals (one holding a line that looks like a response), a FLAGS-only FETCH, and
    /// the tagged OK, as Dovecot sends them for `UID FETCH 7:9 (UID FLAGS RFC822.SIZE BODY.PEEK[])`.
    static let stream: [UInt8] = {
        let first = "Subject: one\r\n\r\n* 3 FETCH (UID 1)\r\nbody\r\n"
        let second = "Subject: two\r\n\r\nsecond body\r\n"
        return Array(
            ("* 1 FETCH (UID 7 FLAGS (\\Recent) RFC822.SIZE \(first.utf8.count) BODY[] {\(first.utf8.count)}\r\n"
                + first + ")\r\n"
                + "* 2 FETCH (UID 8 FLAGS (\\Seen))\r\n"
                + "* 3 FETCH (UID 9 BODY[] {\(second.utf8.count)}\r\n" + second + " FLAGS ())\r\n"
                + "A1 OK Fetch completed.\r\n").utf8)
    }()

    @Test(
        "reads the messages of FETCH responses with literals, in order, for reads of 1, 7, 64 bytes and whole",
        arguments: [1, 7, 64, 100_000])
    func readsMessages(chunk: Int) throws {
        var reader = IMAPResponseReader()
        var messages: [IMAPFetchedMessage] = []
        var offset = 0
        while offset < Self.stream.count {
            let end = min(offset + chunk, Self.stream.count)
            messages += try reader.read(Array(Self.stream[offset..<end]))
            offset = end
        }
        #expect(reader.responseCount == 4)
        #expect(messages.map(\.uid) == [7, 9])
        #expect(String(decoding: messages[0].raw, as: UTF8.self) == "Subject: one\r\n\r\n* 3 FETCH (UID 1)\r\nbody\r\n")
        #expect(messages[0].flags == ["\\Recent"])
        #expect(messages[0].size == messages[0].raw.count)
        #expect(String(decoding: messages[1].raw, as: UTF8.self) == "Subject: two\r\n\r\nsecond body\r\n")
    }

    @Test("a literal larger than the limit is refused like a connection refuses it")
    func refusesOversizedLiteral() {
        var reader = IMAPResponseReader(
            limits: IMAPFrameLimits(maxLineLength: 1000, maxLiteralSize: 10, maxLiteralsPerFrame: 4, maxFrameSize: 5000)
        )
        #expect(throws: MailClientError.self) {
            _ = try reader.read(Array("* 1 FETCH (UID 1 BODY[] {11}\r\nhello world)\r\n".utf8))
        }
    }
}
