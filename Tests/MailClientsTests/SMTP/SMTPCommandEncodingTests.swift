import NIOCore
import Testing

@testable import MailClients

/// A command and its exact wire form.
struct SMTPEncodingFixture: Sendable, CustomTestStringConvertible {
    var command: SMTPCommand
    var wire: String
    var testDescription: String { wire.filter { $0 != "\r\n" } }
}

/// A message and its wire form after DATA.
struct SMTPContentFixture: Sendable, CustomTestStringConvertible {
    var name: String
    var message: String
    var wire: String
    var testDescription: String { name }
}

@Suite("SMTP command encoding")
struct SMTPCommandEncodingTests {
    static let commands: [SMTPEncodingFixture] = [
        .init(command: .ehlo("desk.example"), wire: "EHLO desk.example\r\n"),
        .init(command: .helo("[127.0.0.1]"), wire: "HELO [127.0.0.1]\r\n"),
        .init(command: .startTLS, wire: "STARTTLS\r\n"),
        .init(command: .authPlain(initialResponse: "AHVzZXIAcGFzcw=="), wire: "AUTH PLAIN AHVzZXIAcGFzcw==\r\n"),
        .init(command: .authPlain(initialResponse: ""), wire: "AUTH PLAIN =\r\n"),
        .init(command: .authLogin, wire: "AUTH LOGIN\r\n"),
        .init(command: .authResponse("dXNlcg=="), wire: "dXNlcg==\r\n"),
        .init(command: .mailFrom("a@b.test", parameters: .init()), wire: "MAIL FROM:<a@b.test>\r\n"),
        .init(command: .mailFrom("", parameters: .init()), wire: "MAIL FROM:<>\r\n"),
        .init(
            command: .mailFrom("a@b.test", parameters: .init(size: 1234, eightBitMIME: true, smtpUTF8: true)),
            wire: "MAIL FROM:<a@b.test> SIZE=1234 BODY=8BITMIME SMTPUTF8\r\n"
        ),
        .init(command: .rcptTo("c@d.test"), wire: "RCPT TO:<c@d.test>\r\n"),
        .init(command: .rcptTo("jürgen@bücher.test"), wire: "RCPT TO:<jürgen@bücher.test>\r\n"),
        .init(command: .data, wire: "DATA\r\n"),
        .init(command: .reset, wire: "RSET\r\n"),
        .init(command: .noop, wire: "NOOP\r\n"),
        .init(command: .quit, wire: "QUIT\r\n"),
    ]

    @Test("commands encode to their RFC 5321 wire form", arguments: commands)
    func encodes(_ fixture: SMTPEncodingFixture) throws {
        var buffer = ByteBuffer()
        try fixture.command.encode(into: &buffer)
        #expect(String(buffer: buffer) == fixture.wire)
    }

    static let injections: [SMTPCommand] = [
        .rcptTo("a@b.test>\r\nRCPT TO:<evil@x.test"),
        .rcptTo("a@b.test\nDATA"),
        .rcptTo("a@b.test\r"),
        .rcptTo("a@b.test> NOTIFY=NEVER"),
        .rcptTo("<a@b.test"),
        .rcptTo("a b@c.test"),
        .rcptTo("a\0@b.test"),
        .rcptTo(""),
        .rcptTo(String(repeating: "a", count: 250) + "@b.test"),
        .mailFrom("a@b.test>\r\nRCPT TO:<evil@x.test", parameters: .init()),
        .ehlo("host\r\nMAIL FROM:<x@y>"),
        .ehlo("two words"),
        .ehlo(""),
        .helo("h\n"),
        .authResponse("dXNlcg==\r\nQUIT"),
        .authPlain(initialResponse: "AA== x"),
    ]

    @Test("CR, LF and other line-breaking characters in addresses or names are refused", arguments: injections)
    func refusesInjection(_ command: SMTPCommand) {
        var buffer = ByteBuffer()
        let error = #expect(throws: MailClientError.self) { try command.encode(into: &buffer) }
        #expect(error?.code == .protocolViolation)
    }

    static let contents: [SMTPContentFixture] = [
        .init(
            name: "CRLF message is sent as is", message: "Subject: x\r\n\r\nhi\r\n",
            wire: "Subject: x\r\n\r\nhi\r\n.\r\n"),
        .init(name: "bare LF becomes CRLF", message: "Subject: x\n\nhi\n", wire: "Subject: x\r\n\r\nhi\r\n.\r\n"),
        .init(name: "bare CR becomes CRLF", message: "a\rb\r\n", wire: "a\r\nb\r\n.\r\n"),
        .init(name: "missing final line break is added", message: "a\r\nb", wire: "a\r\nb\r\n.\r\n"),
        .init(
            name: "leading dot is doubled (RFC 5321 §4.5.2)", message: ".a\r\n..b\r\nc.d\r\n",
            wire: "..a\r\n...b\r\nc.d\r\n.\r\n"),
        .init(
            name: "a lone dot line cannot end the message early", message: "a\n.\nb\n", wire: "a\r\n..\r\nb\r\n.\r\n"),
        .init(name: "dot at the very start", message: ".", wire: "..\r\n.\r\n"),
        .init(name: "empty message", message: "", wire: ".\r\n"),
        .init(name: "CR CR LF is two line breaks", message: "a\r\r\nb", wire: "a\r\n\r\nb\r\n.\r\n"),
        .init(name: "8-bit bytes pass through", message: "café\n", wire: "café\r\n.\r\n"),
    ]

    @Test("message content is CRLF-normalised and dot-stuffed", arguments: contents)
    func content(_ fixture: SMTPContentFixture) throws {
        var buffer = ByteBuffer()
        try SMTPCommand.messageContent(Array(fixture.message.utf8)).encode(into: &buffer)
        #expect(String(buffer: buffer) == fixture.wire)
    }

    @Test("8-bit detection decides BODY=8BITMIME (RFC 6152)")
    func eightBit() {
        #expect(SMTPMessageContent.has8BitBytes(Array("café".utf8)))
        #expect(!SMTPMessageContent.has8BitBytes(Array("cafe\r\n".utf8)))
    }

    @Test("the log description never shows credentials or addresses")
    func redaction() {
        #expect(!SMTPCommand.authPlain(initialResponse: "AHVzZXIAcGFzcw==").description.contains("AHVz"))
        #expect(!SMTPCommand.authResponse("c2VjcmV0").description.contains("c2Vj"))
        #expect(!SMTPCommand.rcptTo("who@where.test").description.contains("who"))
    }
}

@Suite("SASL encoding")
struct SASLMechanismEncodingTests {
    @Test(
        "base64 matches the RFC 4648 §10 test vectors",
        arguments: [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
        ]
    )
    func base64(_ input: String, _ expected: String) {
        #expect(SASLMechanismEncoding.base64(input.utf8) == expected)
    }

    @Test("PLAIN is NUL user NUL password, base64 (RFC 4616 §2)")
    func plain() throws {
        #expect(
            try SASLMechanismEncoding.plainInitialResponse(username: "tim", password: "tanstaaftanstaaf")
                == "AHRpbQB0YW5zdGFhZnRhbnN0YWFm")
        #expect(
            try SASLMechanismEncoding.plainInitialResponse(username: "help@desk.test", password: "secret")
                == SASLMechanismEncoding.base64([0] + Array("help@desk.test".utf8) + [0] + Array("secret".utf8)))
    }

    @Test("PLAIN refuses NUL inside user name or password")
    func plainRefusesNUL() {
        #expect(throws: MailClientError.self) {
            try SASLMechanismEncoding.plainInitialResponse(username: "a\0b", password: "x")
        }
        #expect(throws: MailClientError.self) {
            try SASLMechanismEncoding.plainInitialResponse(username: "a", password: "")
        }
    }
}
