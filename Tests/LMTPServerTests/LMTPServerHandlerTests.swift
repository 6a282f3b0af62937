import NIOCore
import NIOEmbedded
import Testing

@testable import LMTPServer

/// One LMTP session: what the client sends (in chunks), what the server must answer, and what it delivers.
struct TranscriptFixture: CustomTestStringConvertible, Sendable {
    var name: String
    var input: [String]
    var expected: String
    var delivered: [String] = []
    var closes = false
    var result: LMTPDeliveryResult = .delivered
    var testDescription: String { name }
}

let lhloReply = """
    250-desk.test
    250-PIPELINING
    250-8BITMIME
    250-ENHANCEDSTATUSCODES
    250 SIZE 1000

    """

let transcripts: [TranscriptFixture] = [
    TranscriptFixture(
        name: "a pipelined transaction: one reply per RCPT as it comes, then one per accepted recipient after DATA",
        input: [
            "LHLO mta.test\r\nMAIL FROM:<a@customer.test> SIZE=40 BODY=8BITMIME\r\nRCPT TO:<help@desk.test>\r\n"
                + "RCPT TO:<nobody@desk.test>\r\nRCPT TO:<Sales@desk.test>\r\nRCPT TO:<sales@desk.test>\r\nDATA\r\n",
            "Subject: hi\r\n\r\n..dot\r\n.\r\nQUIT\r\n",
        ],
        expected: lhloReply + """
            250 2.1.0 sender ok
            250 2.1.5 <help@desk.test> recipient ok
            550 5.1.1 <nobody@desk.test> no such mailbox here
            550 5.1.1 <Sales@desk.test> no such mailbox here
            250 2.1.5 <sales@desk.test> recipient ok
            354 start mail input; end with <CRLF>.<CRLF>
            250 2.0.0 <help@desk.test> message stored
            250 2.0.0 <sales@desk.test> message stored
            221 2.0.0 desk.test closing connection

            """,
        delivered: ["Subject: hi\r\n\r\n.dot\r\n"], closes: true),
    TranscriptFixture(
        name: "the whole session in one write, content included, before any reply was read",
        input: [
            "LHLO mta.test\r\nMAIL FROM:<>\r\nRCPT TO:<help@desk.test>\r\nDATA\r\nline\r\n.\r\n"
                + "MAIL FROM:<b@customer.test>\r\nRCPT TO:<help@desk.test>\r\nDATA\r\n.\r\nQUIT\r\n"
        ],
        expected: lhloReply + """
            250 2.1.0 sender ok
            250 2.1.5 <help@desk.test> recipient ok
            354 start mail input; end with <CRLF>.<CRLF>
            250 2.0.0 <help@desk.test> message stored
            250 2.1.0 sender ok
            250 2.1.5 <help@desk.test> recipient ok
            354 start mail input; end with <CRLF>.<CRLF>
            250 2.0.0 <help@desk.test> message stored
            221 2.0.0 desk.test closing connection

            """,
        delivered: ["line\r\n", ""], closes: true),
    TranscriptFixture(
        name: "HELO and EHLO are refused with 500 (RFC 2033 §4.1)",
        input: ["HELO mta.test\r\nEHLO mta.test\r\nLHLO mta.test\r\n"],
        expected: """
            500 5.5.1 HELO is SMTP; this is LMTP: use LHLO
            500 5.5.1 EHLO is SMTP; this is LMTP: use LHLO

            """ + lhloReply),
    TranscriptFixture(
        name: "commands out of order are 503 (RFC 5321 §4.1.4, RFC 2033 §4.2)",
        input: [
            "MAIL FROM:<a@customer.test>\r\nLHLO mta.test\r\nRCPT TO:<help@desk.test>\r\nDATA\r\n"
                + "MAIL FROM:<a@customer.test>\r\nMAIL FROM:<a@customer.test>\r\nRCPT TO:<nobody@desk.test>\r\nDATA\r\n"
        ],
        expected: """
            503 5.5.1 bad sequence of commands: send LHLO first

            """ + lhloReply + """
                503 5.5.1 bad sequence of commands: send MAIL FROM first
                503 5.5.1 bad sequence of commands: send MAIL FROM first
                250 2.1.0 sender ok
                503 5.5.1 bad sequence of commands: a transaction is already open; RSET first
                550 5.1.1 <nobody@desk.test> no such mailbox here
                503 5.5.1 bad sequence of commands: no valid recipients

                """),
    TranscriptFixture(
        name: "DATA without an accepted recipient is 503; RSET ends the transaction",
        input: [
            "LHLO mta.test\r\nMAIL FROM:<a@customer.test>\r\nRCPT TO:<nobody@desk.test>\r\nDATA\r\nRSET\r\n"
                + "RCPT TO:<help@desk.test>\r\n"
        ],
        expected: lhloReply + """
            250 2.1.0 sender ok
            550 5.1.1 <nobody@desk.test> no such mailbox here
            503 5.5.1 bad sequence of commands: no valid recipients
            250 2.0.0 OK
            503 5.5.1 bad sequence of commands: send MAIL FROM first

            """),
    TranscriptFixture(
        name: "a declared SIZE over the limit is 552 at MAIL (RFC 1870 §6.1)",
        input: ["LHLO mta.test\r\nMAIL FROM:<a@customer.test> SIZE=1001\r\nMAIL FROM:<a@customer.test> SIZE=1000\r\n"],
        expected: lhloReply + """
            552 5.3.4 message size exceeds fixed maximum message size
            250 2.1.0 sender ok

            """),
    TranscriptFixture(
        name: "content over the limit is read to its end and refused with 552 per recipient; the session goes on",
        input: [
            "LHLO mta.test\r\nMAIL FROM:<a@customer.test>\r\nRCPT TO:<help@desk.test>\r\nRCPT TO:<sales@desk.test>\r\n"
                + "DATA\r\n",
            String(repeating: "x", count: 600) + "\r\n", String(repeating: "y", count: 600) + "\r\n.\r\n",
            "MAIL FROM:<a@customer.test>\r\nRCPT TO:<help@desk.test>\r\nDATA\r\nsmall\r\n.\r\n",
        ],
        expected: lhloReply + """
            250 2.1.0 sender ok
            250 2.1.5 <help@desk.test> recipient ok
            250 2.1.5 <sales@desk.test> recipient ok
            354 start mail input; end with <CRLF>.<CRLF>
            552 5.3.4 message exceeds the fixed maximum of 1000 bytes
            552 5.3.4 message exceeds the fixed maximum of 1000 bytes
            250 2.1.0 sender ok
            250 2.1.5 <help@desk.test> recipient ok
            354 start mail input; end with <CRLF>.<CRLF>
            250 2.0.0 <help@desk.test> message stored

            """,
        delivered: ["small\r\n"]),
    TranscriptFixture(
        name: "NOOP, VRFY (252), RSET before LHLO, unknown commands (500) and syntax errors (501)",
        input: ["RSET\r\nNOOP hello\r\nVRFY help\r\nEXPN list\r\n\r\nLHLO\r\nDATA now\r\n"],
        expected: """
            250 2.0.0 OK
            250 2.0.0 OK
            252 2.5.0 cannot VRFY; send the message and RCPT TO decides
            500 5.5.1 command not recognized
            500 5.5.1 command not recognized
            501 5.5.4 LHLO needs a domain
            501 5.5.4 DATA takes no argument

            """),
    TranscriptFixture(
        name: "parameters not offered are 555, unreadable paths 501 (RFC 5321 §4.1.1.11)",
        input: [
            "LHLO mta.test\r\nMAIL FROM:<a@customer.test> SMTPUTF8\r\nMAIL FROM:a@customer.test\r\n"
                + "MAIL FROM:<a@customer.test> BODY=BINARYMIME\r\nMAIL FROM: <@relay.test:a@customer.test>\r\n"
                + "RCPT TO:<help@desk.test> NOTIFY=NEVER\r\nRCPT TO:<>\r\nRCPT TO:<help@desk.test\r\n"
        ],
        expected: lhloReply + """
            555 5.5.4 MAIL FROM parameter SMTPUTF8 not recognized
            501 5.1.7 bad address syntax
            501 5.5.4 BODY is 7BIT or 8BITMIME
            250 2.1.0 sender ok
            555 5.5.4 RCPT TO parameters not recognized
            501 5.1.3 bad address syntax
            421 4.7.0 too many errors; closing connection

            """, closes: true),
    TranscriptFixture(
        name: "too many recipients in one transaction are 452 (RFC 5321 §4.5.3.1.10)",
        input: [
            "LHLO m\r\nMAIL FROM:<a@c.test>\r\n"
                + String(repeating: "RCPT TO:<help@desk.test>\r\n", count: 4)
        ],
        expected: lhloReply + """
            250 2.1.0 sender ok
            250 2.1.5 <help@desk.test> recipient ok
            250 2.1.5 <help@desk.test> recipient ok
            250 2.1.5 <help@desk.test> recipient ok
            452 4.5.3 too many recipients in one transaction

            """),
    TranscriptFixture(
        name: "a store failure is 451 for each recipient, so the MTA retries",
        input: [
            "LHLO m\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<help@desk.test>\r\nRCPT TO:<sales@desk.test>\r\nDATA\r\nx\r\n.\r\n"
        ],
        expected: lhloReply + """
            250 2.1.0 sender ok
            250 2.1.5 <help@desk.test> recipient ok
            250 2.1.5 <sales@desk.test> recipient ok
            354 start mail input; end with <CRLF>.<CRLF>
            451 4.3.0 <help@desk.test> message not stored; try again later
            451 4.3.0 <sales@desk.test> message not stored; try again later

            """,
        delivered: ["x\r\n"], result: .temporaryFailure),
    TranscriptFixture(
        name: "a command line over the limit is 500 and the connection is closed, whatever follows",
        input: ["LHLO " + String(repeating: "a", count: 200), "\r\nNOOP\r\n"],
        expected: "500 5.5.2 line too long; closing connection\n", closes: true),
    TranscriptFixture(
        name: "a bare LF ends the session (RFC 5321 §2.3.8)",
        input: ["LHLO m\nNOOP\r\n"],
        expected: "500 5.5.2 lines must end in CRLF; closing connection\n", closes: true),
    TranscriptFixture(
        name: "only CRLF.CRLF ends DATA: LF.LF and CRLF.LF are content (no SMTP smuggling)",
        input: [
            "LHLO m\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<help@desk.test>\r\nDATA\r\n"
                + "a\n.\nMAIL FROM:<evil@c.test>\r\n.\nb\r\n.\r\n"
        ],
        expected: lhloReply + """
            250 2.1.0 sender ok
            250 2.1.5 <help@desk.test> recipient ok
            354 start mail input; end with <CRLF>.<CRLF>
            250 2.0.0 <help@desk.test> message stored

            """,
        delivered: ["a\n.\nMAIL FROM:<evil@c.test>\r\n\nb\r\n"]),
]

@Suite("LMTP server handler")
struct LMTPServerHandlerTests {
    @Test("transcripts", arguments: transcripts)
    func transcript(_ fixture: TranscriptFixture) throws {
        let rig = try LMTPHandlerRig(result: fixture.result)
        #expect(rig.greeting == "220 desk.test LMTP postdesk ready\n")
        var output = ""
        for chunk in fixture.input { output += try rig.send(chunk) }
        #expect(output == fixture.expected)
        #expect(rig.deliveries.map { String(decoding: $0.message, as: UTF8.self) } == fixture.delivered)
        #expect(rig.channel.isActive == !fixture.closes)
        #expect(try rig.finish())
    }

    @Test("the same transcripts fed one byte at a time give the same replies", arguments: transcripts)
    func bytewise(_ fixture: TranscriptFixture) throws {
        let rig = try LMTPHandlerRig(result: fixture.result)
        let output = try rig.sendBytewise(fixture.input.joined())
        #expect(output == fixture.expected)
        #expect(rig.deliveries.map { String(decoding: $0.message, as: UTF8.self) } == fixture.delivered)
        #expect(try rig.finish())
    }

    @Test("the envelope reaches the owner: reverse path, accepted recipients in RCPT order, body type")
    func envelope() throws {
        let rig = try LMTPHandlerRig()
        _ = try rig.send(
            "LHLO m\r\nMAIL FROM:<a@customer.test> BODY=8BITMIME\r\nRCPT TO:<sales@desk.test>\r\n"
                + "RCPT TO:<x@desk.test>\r\nRCPT TO:<help@desk.test>\r\nDATA\r\nhi\r\n.\r\n")
        #expect(rig.asked == ["sales@desk.test", "x@desk.test", "help@desk.test"])
        #expect(
            rig.deliveries == [
                LMTPDelivery(
                    reversePath: "a@customer.test", recipients: ["sales@desk.test", "help@desk.test"],
                    body: .eightBitMIME, message: Array("hi\r\n".utf8))
            ])
        #expect(try rig.finish())
    }

    @Test("while the owner decides, nothing more is read: pipelined commands wait, reads are held back")
    func holdsInput() throws {
        let rig = try LMTPHandlerRig()
        rig.answers = false
        let before = try rig.send(
            "LHLO m\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<help@desk.test>\r\nRCPT TO:<sales@desk.test>\r\n")
        #expect(before == lhloReply + "250 2.1.0 sender ok\n")
        #expect(rig.pending.count == 1)
        let reads = rig.reads.reads
        rig.channel.read()
        #expect(rig.reads.reads == reads)
        let after = try rig.answerPending()
        #expect(
            after
                == "250 2.1.5 <help@desk.test> recipient ok\n250 2.1.5 <sales@desk.test> recipient ok\n")
        // The held read goes out once the handler reads on.
        #expect(rig.reads.reads == reads + 1)
        #expect(try rig.finish())
    }

    @Test("shutdown between commands: 421 at once (RFC 5321 §3.8)")
    func drainIdle() throws {
        let rig = try LMTPHandlerRig()
        _ = try rig.send("LHLO m\r\n")
        rig.channel.pipeline.triggerUserOutboundEvent(LMTPDrainEvent(), promise: nil)
        #expect(try rig.output() == "421 4.3.2 desk.test shutting down; try again later\n")
        #expect(!rig.channel.isActive)
        #expect(try rig.finish())
    }

    @Test("shutdown during DATA: the message is read and stored, its replies sent, then 421")
    func drainDuringData() throws {
        let rig = try LMTPHandlerRig()
        _ = try rig.send("LHLO m\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<help@desk.test>\r\nDATA\r\nfirst half\r\n")
        rig.channel.pipeline.triggerUserOutboundEvent(LMTPDrainEvent(), promise: nil)
        #expect(try rig.output() == "")
        #expect(rig.channel.isActive)
        let rest = try rig.send("second half\r\n.\r\nMAIL FROM:<b@c.test>\r\n")
        #expect(
            rest == "250 2.0.0 <help@desk.test> message stored\n421 4.3.2 desk.test shutting down; try again later\n")
        #expect(rig.deliveries.count == 1)
        #expect(!rig.channel.isActive)
        #expect(try rig.finish())
    }

    @Test("shutdown while the store works: its replies first, then 421")
    func drainDuringDelivery() throws {
        let rig = try LMTPHandlerRig()
        _ = try rig.send("LHLO m\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<help@desk.test>\r\nDATA\r\n")
        rig.answers = false
        _ = try rig.send("x\r\n.\r\n")
        rig.channel.pipeline.triggerUserOutboundEvent(LMTPDrainEvent(), promise: nil)
        #expect(rig.channel.isActive)
        #expect(
            try rig.answerPending()
                == "250 2.0.0 <help@desk.test> message stored\n421 4.3.2 desk.test shutting down; try again later\n")
        #expect(!rig.channel.isActive)
        #expect(try rig.finish())
    }

    @Test("a client silent for the idle timeout gets 421 and is disconnected (RFC 5321 §4.5.3.2.7)")
    func idleTimeout() throws {
        let rig = try LMTPHandlerRig()
        _ = try rig.send("LHLO m\r\n")
        rig.channel.embeddedEventLoop.advanceTime(by: .minutes(4))
        #expect(rig.channel.isActive)
        rig.channel.embeddedEventLoop.advanceTime(by: .minutes(2))
        #expect(try rig.output() == "421 4.4.2 desk.test idle too long; closing connection\n")
        #expect(!rig.channel.isActive)
        #expect(try rig.finish())
    }

    @Test("a flood of content past the limit is not kept: memory stays flat while 5 MB stream through")
    func floodNotBuffered() throws {
        let rig = try LMTPHandlerRig()
        _ = try rig.send("LHLO m\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<help@desk.test>\r\nDATA\r\n")
        let chunk = String(repeating: String(repeating: "z", count: 998) + "\r\n", count: 64)
        for _ in 0..<80 { #expect(try rig.send(chunk) == "") }
        #expect(try rig.send(".\r\n") == "552 5.3.4 message exceeds the fixed maximum of 1000 bytes\n")
        #expect(rig.deliveries.isEmpty)
        #expect(try rig.finish())
    }
}
