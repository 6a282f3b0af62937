import NIOCore
import Testing

@testable import MailClients

@Suite("POP3 command encoding")
struct POP3CommandEncodingTests {
    @Test(
        "commands encode to their RFC 1939 wire form and announce their answer's shape",
        arguments: [
            (POP3Command.capa, "CAPA\r\n", true),
            (.stls, "STLS\r\n", false),
            (.user("help@desk.test"), "USER help@desk.test\r\n", false),
            (.pass("pass with spaces"), "PASS pass with spaces\r\n", false),
            (
                .apop(name: "mrose", digest: "c4c9334bac560ecc979e58001b3e22fb"),
                "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n", false
            ),
            (.authPlain(initialResponse: "AHVzZXIAcGFzcw=="), "AUTH PLAIN AHVzZXIAcGFzcw==\r\n", false),
            (.authResponse("AHVzZXIAcGFzcw=="), "AHVzZXIAcGFzcw==\r\n", false),
            (.stat, "STAT\r\n", false),
            (.list(nil), "LIST\r\n", true),
            (.list(2), "LIST 2\r\n", false),
            (.uidl(nil), "UIDL\r\n", true),
            (.uidl(3), "UIDL 3\r\n", false),
            (.retr(1), "RETR 1\r\n", true),
            (.top(1, lines: 0), "TOP 1 0\r\n", true),
            (.dele(7), "DELE 7\r\n", false),
            (.rset, "RSET\r\n", false),
            (.noop, "NOOP\r\n", false),
            (.quit, "QUIT\r\n", false),
        ] as [(POP3Command, String, Bool)]
    )
    func encodes(_ command: POP3Command, _ wire: String, _ multiLine: Bool) throws {
        var buffer = ByteBuffer()
        try command.encode(into: &buffer)
        #expect(String(buffer: buffer) == wire)
        #expect((command.responseShape == .multiLine) == multiLine)
    }

    @Test(
        "CR, LF, NUL, spaces in names and bad numbers are refused: no injection",
        arguments: [
            POP3Command.user("help@desk.test\r\nDELE 1"), .user("two words"), .user(""),
            .pass("secret\r\nDELE 1"), .pass("a\nb"), .pass("a\0b"), .pass(""),
            .apop(name: "x\r\n", digest: "abc"), .apop(name: "x", digest: "a b"),
            .authPlain(initialResponse: "AA==\r\nDELE 1"), .authResponse("x y"),
            .retr(0), .dele(-1), .list(0), .uidl(0), .top(1, lines: -1),
        ]
    )
    func refusesInjection(_ command: POP3Command) {
        var buffer = ByteBuffer()
        let error = #expect(throws: MailClientError.self) { try command.encode(into: &buffer) }
        #expect(error?.code == .protocolViolation)
    }

    @Test("the log description never shows user names, passwords or digests")
    func redaction() {
        for command in [
            POP3Command.user("who"), .pass("s3cret"), .apop(name: "who", digest: "d1g"),
            .authPlain(initialResponse: "QUJD"),
        ] {
            let text = command.description
            #expect(
                !text.contains("who") && !text.contains("s3cret") && !text.contains("d1g") && !text.contains("QUJD"))
        }
    }
}
