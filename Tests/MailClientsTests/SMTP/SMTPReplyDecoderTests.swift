import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import MailClients

/// One framing case: bytes from the server and the replies they must become.
struct SMTPReplyFixture: Sendable, CustomTestStringConvertible {
    var name: String
    var wire: String
    var replies: [SMTPReply]
    var testDescription: String { name }
}

/// One hostile input and the error code it must produce.
struct SMTPHostileFixture: Sendable, CustomTestStringConvertible {
    var name: String
    var wire: [UInt8]
    var code: MailClientError.Code
    var testDescription: String { name }
}

@Suite("SMTP reply framing")
struct SMTPReplyDecoderTests {
    static let fixtures: [SMTPReplyFixture] = [
        .init(
            name: "greeting", wire: "220 vm ESMTP OpenSMTPD\r\n",
            replies: [.init(code: 220, lines: ["vm ESMTP OpenSMTPD"])]),
        .init(
            name: "OpenSMTPD EHLO (real transcript)",
            wire: "250-vm Hello x.test [127.0.0.1], pleased to meet you\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
                + "250-SIZE 36700160\r\n250-DSN\r\n250 HELP\r\n",
            replies: [
                .init(
                    code: 250,
                    lines: [
                        "vm Hello x.test [127.0.0.1], pleased to meet you", "8BITMIME", "ENHANCEDSTATUSCODES",
                        "SIZE 36700160", "DSN", "HELP",
                    ]
                )
            ]
        ),
        .init(name: "code only", wire: "250\r\n", replies: [.init(code: 250, lines: [""])]),
        .init(
            name: "empty continuation text", wire: "250-\r\n250 done\r\n",
            replies: [.init(code: 250, lines: ["", "done"])]),
        .init(
            name: "two replies in one read",
            wire: "250 2.1.0 Ok\r\n550 5.1.1 <x@y>: Recipient address rejected\r\n",
            replies: [
                .init(code: 250, lines: ["2.1.0 Ok"]),
                .init(code: 550, lines: ["5.1.1 <x@y>: Recipient address rejected"]),
            ]
        ),
        .init(
            name: "Gmail 535 multi-line",
            wire: "535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
                + "535 5.7.8  https://support.google.com/mail/?p=BadCredentials d2-20020a05600c\r\n",
            replies: [
                .init(
                    code: 535,
                    lines: [
                        "5.7.8 Username and Password not accepted. For more information, go to",
                        "5.7.8  https://support.google.com/mail/?p=BadCredentials d2-20020a05600c",
                    ]
                )
            ]
        ),
        .init(name: "UTF-8 text (SMTPUTF8)", wire: "250 OK café\r\n", replies: [.init(code: 250, lines: ["OK café"])]),
        .init(name: "tab in text", wire: "354 go\tahead\r\n", replies: [.init(code: 354, lines: ["go\tahead"])]),
    ]

    @Test("replies are framed, also when bytes arrive one at a time", arguments: fixtures)
    func framesReplies(_ fixture: SMTPReplyFixture) throws {
        var decoder = SMTPReplyDecoder()
        var all = ByteBuffer(string: fixture.wire)
        var decoded: [SMTPReply] = []
        while let reply = try decoder.decode(buffer: &all) { decoded.append(reply) }
        #expect(decoded == fixture.replies)
        #expect(all.readableBytes == 0)

        var dripDecoder = SMTPReplyDecoder()
        var dripped: [SMTPReply] = []
        var pending = ByteBuffer()
        for byte in fixture.wire.utf8 {
            pending.writeInteger(byte)
            while let reply = try dripDecoder.decode(buffer: &pending) { dripped.append(reply) }
        }
        #expect(dripped == fixture.replies)
    }

    @Test("NIO's ByteToMessageDecoderVerifier accepts the decoder")
    func verifier() throws {
        let pairs = Self.fixtures.map { ($0.wire, $0.replies) }
        try ByteToMessageDecoderVerifier.verifyDecoder(stringInputOutputPairs: pairs) {
            SMTPReplyDecoder()
        }
    }

    static let hostile: [SMTPHostileFixture] = [
        .init(name: "endless line", wire: Array(repeating: UInt8(ascii: "2"), count: 5000), code: .responseTooLarge),
        .init(
            name: "line too long with CRLF", wire: Array(("250 " + String(repeating: "x", count: 5000) + "\r\n").utf8),
            code: .responseTooLarge),
        .init(
            name: "too many lines", wire: Array(String(repeating: "250-x\r\n", count: 201).utf8),
            code: .responseTooLarge),
        .init(name: "bare LF", wire: Array("250 ok\n".utf8), code: .protocolViolation),
        .init(name: "bare CR inside a line", wire: Array("250 o\rk\r\n".utf8), code: .protocolViolation),
        .init(name: "code 600", wire: Array("600 no\r\n".utf8), code: .protocolViolation),
        .init(name: "code 199", wire: Array("199 no\r\n".utf8), code: .protocolViolation),
        .init(name: "code 260 (second digit above 5)", wire: Array("260 no\r\n".utf8), code: .protocolViolation),
        .init(name: "two-digit code", wire: Array("25\r\n".utf8), code: .protocolViolation),
        .init(name: "wrong separator", wire: Array("250:ok\r\n".utf8), code: .protocolViolation),
        .init(name: "HTTP server", wire: Array("HTTP/1.1 400 Bad Request\r\n".utf8), code: .protocolViolation),
        .init(name: "code changes mid reply", wire: Array("250-a\r\n251 b\r\n".utf8), code: .protocolViolation),
        .init(name: "binary garbage", wire: [0x16, 0x03, 0x01, 0x00, 0xFF, 0x0D, 0x0A], code: .protocolViolation),
    ]

    @Test("hostile input is an error, never a crash", arguments: hostile)
    func hostileInput(_ fixture: SMTPHostileFixture) {
        var decoder = SMTPReplyDecoder()
        var buffer = ByteBuffer(bytes: fixture.wire)
        let error = #expect(throws: MailClientError.self) {
            while try decoder.decode(buffer: &buffer) != nil {}
        }
        #expect(error?.code == fixture.code)
    }

    @Test("the connection closing mid-reply is .connectionClosed")
    func eofMidReply() {
        var decoder = SMTPReplyDecoder()
        var buffer = ByteBuffer(string: "250-first\r\n250 sec")
        let error = #expect(throws: MailClientError.self) {
            _ = try decoder.decodeLast(buffer: &buffer, seenEOF: true)
        }
        #expect(error?.code == .connectionClosed)
    }
}
