import Testing

@testable import MailClients

/// A command and the chunks it must encode to (each chunk after the first waits for a `+`).
struct EncodeFixture: Sendable, CustomTestStringConvertible {
    let name: String
    let command: IMAPCommand
    let literalPlus: Bool
    let chunks: [String]
    var testDescription: String { name }
}

private func secret(_ text: String) -> IMAPCommand.Part {
    .secret(.init(bytes: Array(text.utf8), asString: true))
}

@Suite("IMAP command encoder")
struct IMAPCommandEncoderTests {
    static let fixtures: [EncodeFixture] = [
        EncodeFixture(
            name: "plain ASCII is quoted",
            command: IMAPCommand(tag: "A1", [.raw("LOGIN"), .string(Array("help@desk.test".utf8)), secret("secret")]),
            literalPlus: false,
            chunks: ["A1 LOGIN \"help@desk.test\" \"secret\"\r\n"]
        ),
        EncodeFixture(
            name: "an empty string is an empty quoted string",
            command: IMAPCommand(tag: "A1", [.raw("LOGIN"), .string([]), secret("")]),
            literalPlus: false,
            chunks: ["A1 LOGIN \"\" \"\"\r\n"]
        ),
        EncodeFixture(
            name: "a password with a quote becomes a synchronizing literal",
            command: IMAPCommand(tag: "A2", [.raw("LOGIN"), .string(Array("u".utf8)), secret("pa\"ss")]),
            literalPlus: false,
            chunks: ["A2 LOGIN \"u\" {5}\r\n", "pa\"ss\r\n"]
        ),
        EncodeFixture(
            name: "a backslash and 8-bit text become literals, counted in bytes",
            command: IMAPCommand(tag: "A3", [.raw("LOGIN"), .string(Array("ü".utf8)), secret("a\\b")]),
            literalPlus: false,
            chunks: ["A3 LOGIN {2}\r\n", "ü {3}\r\n", "a\\b\r\n"]
        ),
        EncodeFixture(
            name: "LITERAL+ sends everything at once",
            command: IMAPCommand(tag: "A4", [.raw("LOGIN"), .string(Array("u".utf8)), secret("wörd")]),
            literalPlus: true,
            chunks: ["A4 LOGIN \"u\" {5+}\r\nwörd\r\n"]
        ),
        EncodeFixture(
            name: "CR and LF in a password are sent in a literal",
            command: IMAPCommand(tag: "A5", [.raw("LOGIN"), .string(Array("u".utf8)), secret("a\r\nA6 DELETE x")]),
            literalPlus: false,
            chunks: ["A5 LOGIN \"u\" {14}\r\n", "a\r\nA6 DELETE x\r\n"]
        ),
        EncodeFixture(
            name: "a SASL initial response is sent verbatim",
            command: IMAPCommand(
                tag: "A6",
                [.raw("AUTHENTICATE"), .raw("PLAIN"), .secret(.init(bytes: Array("AGEAYg==".utf8), asString: false))]
            ),
            literalPlus: false,
            chunks: ["A6 AUTHENTICATE PLAIN AGEAYg==\r\n"]
        ),
    ]

    @Test("encodes commands into chunks split at synchronizing literals", arguments: fixtures)
    func encodes(_ fixture: EncodeFixture) throws {
        let chunks = try IMAPCommandEncoder.encode(fixture.command, literalPlus: fixture.literalPlus)
        #expect(chunks.map { String(decoding: $0, as: UTF8.self) } == fixture.chunks)
    }

    @Test(
        "refuses command injection through raw text and NUL in strings",
        arguments: [
            IMAPCommand(tag: "A1", [.raw("UID SEARCH"), .raw("ALL\r\nA2 DELETE INBOX")]),
            IMAPCommand(tag: "A1\r\n", [.raw("NOOP")]),
            IMAPCommand(tag: "A1", [.raw("LOGIN"), .string([0x61, 0x00])]),
            IMAPCommand(
                tag: "A1", [.raw("AUTHENTICATE PLAIN"), .secret(.init(bytes: [0x41, 0x0A], asString: false))]),
        ]
    )
    func refusesInjection(_ command: IMAPCommand) {
        #expect(throws: MailClientError.self) {
            _ = try IMAPCommandEncoder.encode(command, literalPlus: false)
        }
    }

    @Test(
        "compresses UIDs into sequence-set ranges",
        arguments: [
            ([UInt32](), ""),
            ([7], "7"),
            ([1, 2, 3, 4, 5, 9], "1:5,9"),
            ([9, 1, 3, 2, 2, 10, 12], "1:3,9:10,12"),
            ([UInt32.max - 1, UInt32.max], "4294967294:4294967295"),
        ]
    )
    func sequenceSets(_ uids: [UInt32], _ expected: String) {
        #expect(IMAPCommandEncoder.sequenceSet(uids) == expected)
    }

    @Test(
        "encodes mailbox names in modified UTF-7 (RFC 3501 §5.1.3)",
        arguments: [
            ("INBOX", "INBOX"),
            ("Sent & Drafts", "Sent &- Drafts"),
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("Entwürfe", "Entw&APw-rfe"),
        ]
    )
    func mailboxNames(_ name: String, _ expected: String) {
        #expect(String(decoding: IMAPCommandEncoder.mailboxName(name), as: UTF8.self) == expected)
    }

    @Test("the log description never shows a secret")
    func redaction() {
        let command = IMAPCommand(tag: "A1", [.raw("LOGIN"), .string(Array("user".utf8)), secret("hunter2")])
        #expect(command.logDescription == "A1 LOGIN \"user\" <redacted>")
        #expect(!"\(command)".contains("hunter2"))
    }
}
