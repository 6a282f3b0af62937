import NIOCore
import NIOTestUtils
import Testing

@testable import MailClients

/// One framing case: the shapes announced, the bytes from the server, and the responses they must become.
struct POP3FramingFixture: Sendable, CustomTestStringConvertible {
    var name: String
    var shapes: [POP3ResponseDecoder.Shape]
    var wire: String
    var responses: [POP3Response]
    var testDescription: String { name }
}

/// One hostile input and the error code it must produce.
struct POP3HostileFixture: Sendable, CustomTestStringConvertible {
    var name: String
    var shapes: [POP3ResponseDecoder.Shape]
    var wire: [UInt8]
    var code: MailClientError.Code
    var testDescription: String { name }
}

@Suite("POP3 response framing")
struct POP3ResponseDecoderTests {
    static let dovecotCAPA =
        "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n"

    static let fixtures: [POP3FramingFixture] = [
        .init(
            name: "Dovecot greeting with APOP timestamp (real transcript)",
            shapes: [.singleLine],
            wire: "+OK Dovecot (Debian) ready. <146a.d.6b019401.WFoua1/Z+rdEvr0etT6zCg==@vm>\r\n",
            responses: [
                .init(status: .ok, text: "Dovecot (Debian) ready. <146a.d.6b019401.WFoua1/Z+rdEvr0etT6zCg==@vm>")
            ]
        ),
        .init(
            name: "Dovecot CAPA (real transcript)",
            shapes: [.multiLine],
            wire: dovecotCAPA,
            responses: [
                .init(
                    status: .ok,
                    text: "",
                    body: Array(
                        "CAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\nSASL PLAIN LOGIN\r\n"
                            .utf8)
                )
            ]
        ),
        .init(
            name: "RETR body is dot-unstuffed (RFC 1939 §3)",
            shapes: [.multiLine],
            wire: "+OK 40 octets\r\nSubject: x\r\n\r\n..leading dot\r\n...two\r\n..\r\nend\r\n.\r\n",
            responses: [
                .init(
                    status: .ok, text: "40 octets",
                    body: Array("Subject: x\r\n\r\n.leading dot\r\n..two\r\n.\r\nend\r\n".utf8))
            ]
        ),
        .init(
            name: "empty multi-line body",
            shapes: [.multiLine],
            wire: "+OK 0 messages\r\n.\r\n",
            responses: [.init(status: .ok, text: "0 messages", body: [])]
        ),
        .init(
            name: "-ERR to a multi-line command has no body",
            shapes: [.multiLine, .singleLine],
            wire: "-ERR [SYS/TEMP] no such message\r\n+OK\r\n",
            responses: [.init(status: .err, text: "[SYS/TEMP] no such message"), .init(status: .ok, text: "")]
        ),
        .init(
            name: "bare LF and CR inside a body line are data",
            shapes: [.multiLine],
            wire: "+OK\r\na\nb\rc\r\n.\r\n",
            responses: [.init(status: .ok, text: "", body: Array("a\nb\rc\r\n".utf8))]
        ),
        .init(
            name: "a body line that starts with a bare LF",
            shapes: [.multiLine],
            wire: "+OK\r\n\nabc\r\n\r\n.\r\n",
            responses: [.init(status: .ok, text: "", body: Array("\nabc\r\n\r\n".utf8))]
        ),
        .init(
            name: "pipelined answers in one read",
            shapes: [.singleLine, .multiLine, .singleLine],
            wire: "+OK 2 320\r\n+OK\r\n1 000000016b01932b\r\n2 000000026b01932b\r\n.\r\n+OK Logging out\r\n",
            responses: [
                .init(status: .ok, text: "2 320"),
                .init(status: .ok, text: "", body: Array("1 000000016b01932b\r\n2 000000026b01932b\r\n".utf8)),
                .init(status: .ok, text: "Logging out"),
            ]
        ),
        .init(
            name: "Outlook lock-out text",
            shapes: [.singleLine],
            wire:
                "-ERR Exceeded the login limit for a 15 minute period. Reduce the frequency of requests to the POP3 server.\r\n",
            responses: [
                .init(
                    status: .err,
                    text:
                        "Exceeded the login limit for a 15 minute period. Reduce the frequency of requests to the POP3 server."
                )
            ]
        ),
        .init(
            name: "SASL continuation", shapes: [.singleLine], wire: "+ \r\n",
            responses: [.init(status: .continuation, text: "")]),
        .init(name: "bare +OK", shapes: [.singleLine], wire: "+OK\r\n", responses: [.init(status: .ok, text: "")]),
        .init(
            name: "lower-case status", shapes: [.singleLine], wire: "-err nope\r\n",
            responses: [.init(status: .err, text: "nope")]),
    ]

    private static func decodeAll(_ decoder: inout POP3ResponseDecoder, _ buffer: inout ByteBuffer) throws
        -> [POP3Response]
    {
        var out: [POP3Response] = []
        while let response = try decoder.decode(buffer: &buffer) { out.append(response) }
        return out
    }

    @Test("responses are framed as announced, also when bytes arrive one at a time", arguments: fixtures)
    func frames(_ fixture: POP3FramingFixture) throws {
        var decoder = POP3ResponseDecoder(expecting: fixture.shapes)
        var buffer = ByteBuffer(string: fixture.wire)
        #expect(try Self.decodeAll(&decoder, &buffer) == fixture.responses)
        #expect(buffer.readableBytes == 0)
        #expect(decoder.expected.isEmpty)

        var drip = POP3ResponseDecoder(expecting: fixture.shapes)
        var pending = ByteBuffer()
        var dripped: [POP3Response] = []
        for byte in fixture.wire.utf8 {
            pending.writeInteger(byte)
            dripped += try Self.decodeAll(&drip, &pending)
        }
        #expect(dripped == fixture.responses)
    }

    @Test("NIO's ByteToMessageDecoderVerifier accepts the decoder (multi-line and single-line)")
    func verifier() throws {
        let multi: [(String, [POP3Response])] = [
            (Self.dovecotCAPA, Self.fixtures[1].responses),
            ("+OK\r\n..x\r\n.\r\n", [.init(status: .ok, text: "", body: Array(".x\r\n".utf8))]),
            ("-ERR no\r\n", [.init(status: .err, text: "no")]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(stringInputOutputPairs: multi) {
            POP3ResponseDecoder(expecting: Array(repeating: .multiLine, count: 100))
        }
        let single: [(String, [POP3Response])] = [
            ("+OK 2 320\r\n", [.init(status: .ok, text: "2 320")]),
            ("-ERR [IN-USE] locked\r\n", [.init(status: .err, text: "[IN-USE] locked")]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(stringInputOutputPairs: single) {
            POP3ResponseDecoder(expecting: Array(repeating: .singleLine, count: 100))
        }
    }

    static let hostile: [POP3HostileFixture] = [
        .init(name: "data nobody asked for", shapes: [], wire: Array("+OK\r\n".utf8), code: .protocolViolation),
        .init(
            name: "endless status line", shapes: [.singleLine], wire: Array(repeating: 0x41, count: 5000),
            code: .responseTooLarge),
        .init(name: "not a status", shapes: [.singleLine], wire: Array("HELLO\r\n".utf8), code: .protocolViolation),
        .init(name: "+OKAY is not +OK", shapes: [.singleLine], wire: Array("+OKAY\r\n".utf8), code: .protocolViolation),
        .init(name: "bare LF status line", shapes: [.singleLine], wire: Array("+OK\n".utf8), code: .protocolViolation),
        .init(
            name: "binary garbage", shapes: [.singleLine], wire: [0x16, 0x03, 0x01, 0x02, 0x00, 0x0D, 0x0A],
            code: .protocolViolation),
        .init(
            name: "second response without a command", shapes: [.singleLine], wire: Array("+OK\r\n+OK\r\n".utf8),
            code: .protocolViolation),
    ]

    @Test("hostile input is an error, never a crash", arguments: hostile)
    func hostileInput(_ fixture: POP3HostileFixture) {
        var decoder = POP3ResponseDecoder(expecting: fixture.shapes)
        var buffer = ByteBuffer(bytes: fixture.wire)
        let error = #expect(throws: MailClientError.self) {
            while try decoder.decode(buffer: &buffer) != nil {}
        }
        #expect(error?.code == fixture.code)
    }

    @Test("a body over the limit is .responseTooLarge, with or without line breaks")
    func bodyLimit() {
        for wire in [
            "+OK\r\n" + String(repeating: "0123456789\r\n", count: 200),
            "+OK\r\n" + String(repeating: "x", count: 3000),
        ] {
            var decoder = POP3ResponseDecoder(expecting: [.multiLine], maximumBodySize: 1000)
            var buffer = ByteBuffer(string: wire)
            let error = #expect(throws: MailClientError.self) {
                while try decoder.decode(buffer: &buffer) != nil {}
            }
            #expect(error?.code == .responseTooLarge)
        }
    }

    @Test("the connection closing mid-body is .connectionClosed")
    func eofMidBody() {
        var decoder = POP3ResponseDecoder(expecting: [.multiLine])
        var buffer = ByteBuffer(string: "+OK\r\nSubject: x\r\n")
        let error = #expect(throws: MailClientError.self) {
            _ = try decoder.decodeLast(buffer: &buffer, seenEOF: true)
        }
        #expect(error?.code == .connectionClosed)
    }

    @Test("a long body split at CR|LF is framed right")
    func crlfSplitAcrossReads() throws {
        var decoder = POP3ResponseDecoder(expecting: [.multiLine])
        var buffer = ByteBuffer(string: "+OK\r\nabc\r")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeString("\n.\r")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeString("\n")
        #expect(try decoder.decode(buffer: &buffer) == POP3Response(status: .ok, text: "", body: Array("abc\r\n".utf8)))
    }
}
