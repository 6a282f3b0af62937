import Foundation
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import MailClients

/// One step of a scripted server: what the client must send, then what the server answers.
struct IMAPScriptStep: Sendable {
    var expect: String?
    var reply: String
    var thenClose = false
}

/// Runs `body` against an `IMAPConnection` whose server side follows `script` on an `NIOAsyncTestingChannel`.
func withScriptedIMAPServer<R: Sendable>(
    greeting: String,
    _ script: [IMAPScriptStep],
    commandTimeout: Duration = .seconds(5),
    _ body: (IMAPConnection) async throws -> R
) async throws -> R {
    let channel = NIOAsyncTestingChannel()
    let asyncChannel = try await channel.testingEventLoop.executeInContext {
        try channel.pipeline.syncOperations.addHandler(IMAPClientHandler(commandTimeout: TimeAmount(commandTimeout)))
        return try NIOAsyncChannel<IMAPResponse, IMAPClientRequest>(wrappingChannelSynchronously: channel)
    }
    try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 143))
    let endpoint = MailServerEndpoint(host: "127.0.0.1", port: 143, tls: .none, commandTimeout: commandTimeout)
    try await channel.writeInbound(ByteBuffer(string: greeting))

    async let server: Void = {
        for step in script {
            if let expected = step.expect {
                var received = ""
                while received.utf8.count < expected.utf8.count {
                    var buffer = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
                    received += buffer.readString(length: buffer.readableBytes) ?? ""
                }
                #expect(received == expected)
            }
            try await channel.writeInbound(ByteBuffer(string: step.reply))
            if step.thenClose {
                try await channel.close()
            }
        }
    }()
    let result = try await asyncChannel.executeThenClose { inbound, outbound in
        let connection = IMAPConnection(
            channel: channel,
            inbound: inbound.makeAsyncIterator(),
            outbound: outbound,
            endpoint: endpoint,
            logger: Logger(label: "test")
        )
        try await connection.open()
        return try await body(connection)
    }
    try await server
    return result
}

private let plainIR = Data("\0help@desk.test\0secret".utf8).base64EncodedString()

@Suite("IMAP connection")
struct IMAPConnectionTests {
    @Test("Gmail's web-login ALERT becomes authenticationFailed with the server's words")
    func gmailAlert() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await withScriptedIMAPServer(
                greeting: "* OK Gimap ready for requests from 203.0.113.9 a7mb123456789abc\r\n",
                [
                    IMAPScriptStep(
                        expect: "A1 CAPABILITY\r\n",
                        reply:
                            "* CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 XYZZY SASL-IR AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN AUTH=OAUTHBEARER\r\nA1 OK Thats all she wrote! a7mb123456789abc\r\n"
                    ),
                    IMAPScriptStep(
                        expect: "A2 AUTHENTICATE PLAIN \(plainIR)\r\n",
                        reply:
                            "A2 NO [ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)\r\n"
                    ),
                ]
            ) { imap in
                try await imap.login(MailCredentials(username: "help@desk.test", password: "secret"))
            }
        }
        #expect(error?.code == .authenticationFailed)
        #expect(
            error?.serverText
                == "[ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)"
        )
        #expect(error.map { "\($0)" }?.contains("secret") == false)
    }

    @Test("Yahoo's AUTHENTICATIONFAILED keeps the response code in serverText")
    func yahoo() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await withScriptedIMAPServer(
                greeting:
                    "* OK [CAPABILITY IMAP4rev1 ID MOVE NAMESPACE XYMHIGHESTMODSEQ UIDPLUS LITERAL+ CHILDREN X-MSG-EXT UNSELECT OBJECTID] IMAP4rev1 Hello\r\n",
                [
                    IMAPScriptStep(
                        expect: "A1 LOGIN \"help@desk.test\" \"secret\"\r\n",
                        reply:
                            "A1 NO [AUTHENTICATIONFAILED] (#MBR1240) Please verify your account by going to https://login.yahoo.com\r\n"
                    )
                ]
            ) { imap in
                try await imap.login(MailCredentials(username: "help@desk.test", password: "secret"))
            }
        }
        #expect(error?.code == .authenticationFailed)
        #expect(
            error?.serverText
                == "[AUTHENTICATIONFAILED] (#MBR1240) Please verify your account by going to https://login.yahoo.com"
        )
    }

    @Test("LOGINDISABLED without AUTH=PLAIN refuses to send the password")
    func loginDisabled() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await withScriptedIMAPServer(
                greeting: "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n",
                []
            ) { imap in
                try await imap.login(MailCredentials(username: "u", password: "p"))
            }
        }
        #expect(error?.code == .authenticationMechanismUnsupported)
    }

    @Test("a whole session: literal login, SELECT, UID SEARCH, UID FETCH, UID STORE, IDLE, LOGOUT")
    func session() async throws {
        let body = "Subject: hi\r\n\r\nHello {5}\r\n"
        let messages = try await withScriptedIMAPServer(
            greeting: "* OK [CAPABILITY IMAP4rev1 IDLE AUTH=LOGIN] ready\r\n",
            [
                IMAPScriptStep(expect: "A1 LOGIN \"help@desk.test\" {5}\r\n", reply: "+ OK\r\n"),
                IMAPScriptStep(expect: "pä\"s\r\n", reply: "A1 OK Logged in\r\n"),
                IMAPScriptStep(expect: "A2 CAPABILITY\r\n", reply: "* CAPABILITY IMAP4rev1 IDLE UIDPLUS\r\nA2 OK\r\n"),
                IMAPScriptStep(
                    expect: "A3 SELECT \"INBOX\"\r\n",
                    reply:
                        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Flags permitted.\r\n* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1700000000] UIDs valid\r\n* OK [UIDNEXT 18] Predicted next UID\r\nA3 OK [READ-WRITE] Select completed.\r\n"
                ),
                IMAPScriptStep(
                    expect: "A4 UID SEARCH UID 17:* UNSEEN UNDELETED\r\n",
                    reply: "* SEARCH 15 17\r\nA4 OK Search completed.\r\n"
                ),
                IMAPScriptStep(
                    expect: "A5 UID FETCH 15,17 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])\r\n",
                    reply:
                        "* 2 FETCH (UID 15 FLAGS () INTERNALDATE \"21-Nov-2026 12:00:00 +0000\" RFC822.SIZE \(body.utf8.count) BODY[] {\(body.utf8.count)}\r\n\(body))\r\n* 3 FETCH (FLAGS (\\Seen))\r\n* 3 FETCH (UID 17 BODY[] {2}\r\nok FLAGS (\\Recent))\r\n* 4 EXISTS\r\nA5 OK Fetch completed.\r\n"
                ),
                IMAPScriptStep(
                    expect: "A6 UID STORE 15,17 +FLAGS.SILENT (\\Seen)\r\n",
                    reply: "A6 OK Store completed.\r\n"
                ),
                IMAPScriptStep(expect: "A7 IDLE\r\n", reply: "+ idling\r\n* OK Still here\r\n* 5 EXISTS\r\n"),
                IMAPScriptStep(expect: "DONE\r\n", reply: "A7 OK Idle completed.\r\n"),
                IMAPScriptStep(expect: "A8 LOGOUT\r\n", reply: "* BYE Logging out\r\nA8 OK Logout completed.\r\n"),
            ]
        ) { imap in
            try await imap.login(MailCredentials(username: "help@desk.test", password: "pä\"s"))
            #expect(imap.capabilities == ["IMAP4REV1", "IDLE", "UIDPLUS"])
            let inbox = try await imap.select("INBOX")
            #expect(
                inbox
                    == IMAPMailboxStatus(
                        name: "INBOX",
                        uidValidity: 1_700_000_000,
                        uidNext: 18,
                        exists: 3,
                        recent: 0,
                        flags: ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"],
                        isReadOnly: false
                    ))
            #expect(!imap.hasPendingMailboxChange, "EXISTS inside SELECT is not news")
            let uids = try await imap.uidSearch("UID 17:* UNSEEN UNDELETED")
            #expect(uids == [15, 17])
            let messages = try await imap.uidFetchMessages(uids)
            #expect(imap.hasPendingMailboxChange, "EXISTS during FETCH is remembered")
            try await imap.uidStore(uids, adding: ["\\Seen"])
            #expect(try await imap.idle(timeout: .seconds(60)) == .mailboxChanged, "the pending change answers at once")
            #expect(try await imap.idle(timeout: .seconds(60)) == .mailboxChanged, "EXISTS wakes IDLE")
            await imap.logout()
            return messages
        }
        #expect(messages.map(\.uid) == [15, 17])
        #expect(messages.first?.raw == Array(body.utf8))
        #expect(messages.first?.internalDate == Date(timeIntervalSince1970: 1_795_262_400))
        #expect(messages.first?.size == body.utf8.count)
        #expect(messages.last?.flags == ["\\Recent"])
        #expect(messages.last?.size == 2)
    }

    @Test("SELECT without UIDVALIDITY is a protocol violation")
    func selectWithoutUIDValidity() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await withScriptedIMAPServer(
                greeting: "* PREAUTH [CAPABILITY IMAP4rev1] welcome back\r\n",
                [IMAPScriptStep(expect: "A1 SELECT \"INBOX\"\r\n", reply: "* 1 EXISTS\r\nA1 OK done\r\n")]
            ) { imap in
                #expect(imap.isAuthenticated)
                _ = try await imap.select("INBOX")
            }
        }
        #expect(error?.code == .protocolViolation)
    }

    @Test("a garbage reply mid-session surfaces as protocolViolation")
    func garbage() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await withScriptedIMAPServer(
                greeting: "* OK [CAPABILITY IMAP4rev1] ready\r\n",
                [IMAPScriptStep(expect: "A1 NOOP\r\n", reply: "\u{1}\u{2} nonsense (((\r\n")]
            ) { imap in
                try await imap.noop()
            }
        }
        #expect(error?.code == .protocolViolation)
    }

    @Test("the server closing mid-command gives connectionClosed with its BYE text")
    func byeThenClose() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await withScriptedIMAPServer(
                greeting: "* OK [CAPABILITY IMAP4rev1] ready\r\n",
                [
                    IMAPScriptStep(
                        expect: "A1 NOOP\r\n", reply: "* BYE Autologout; idle for too long\r\n", thenClose: true)
                ]
            ) { imap in
                try await imap.noop()
            }
        }
        #expect(error?.code == .connectionClosed)
        #expect(error?.serverText == "Autologout; idle for too long")
    }

    @Test("search criteria with CRLF are refused before sending, and the session stays usable")
    func criteriaInjection() async throws {
        try await withScriptedIMAPServer(
            greeting: "* OK [CAPABILITY IMAP4rev1] ready\r\n",
            [IMAPScriptStep(expect: "A2 NOOP\r\n", reply: "A2 OK\r\n")]
        ) { imap in
            let error = await #expect(throws: MailClientError.self) {
                try await imap.uidSearch("ALL\r\nA9 DELETE INBOX")
            }
            #expect(error?.code == .commandRejected)
            try await imap.noop()
        }
    }

    @Test("a search excluding UIDs sends them as one NOT UID set, and leaves out a set too long to send")
    func searchExcluding() async throws {
        // Every other UID: a set of 2,000 single numbers, far beyond the longest exclusion sent.
        let scattered = (0..<2000).map { UInt32(2 * $0 + 1) }
        let found = try await withScriptedIMAPServer(
            greeting: "* OK [CAPABILITY IMAP4rev1] ready\r\n",
            [
                IMAPScriptStep(
                    expect: "A1 UID SEARCH UID 10:* SEEN UNDELETED NOT UID 10:12,15\r\n",
                    reply: "* SEARCH 14\r\nA1 OK Search completed.\r\n"),
                IMAPScriptStep(
                    expect: "A2 UID SEARCH UID 1:* SEEN\r\n", reply: "* SEARCH 3 4\r\nA2 OK Search completed.\r\n"),
                IMAPScriptStep(
                    expect: "A3 UID SEARCH UID 1:* SEEN\r\n", reply: "* SEARCH\r\nA3 OK Search completed.\r\n"),
            ]
        ) { imap in
            [
                try await imap.uidSearch("UID 10:* SEEN UNDELETED", excluding: [15, 11, 10, 12, 11]),
                try await imap.uidSearch("UID 1:* SEEN", excluding: scattered),
                try await imap.uidSearch("UID 1:* SEEN", excluding: []),
            ]
        }
        #expect(found == [[14], [3, 4], []])
    }

    @Test("AUTHENTICATE PLAIN without SASL-IR answers the + and an Outlook refusal is authenticationFailed")
    func plainWithoutInitialResponse() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await withScriptedIMAPServer(
                greeting:
                    "* OK The Microsoft Exchange IMAP4 service is ready. [TQBXADIAUABSADAAMQBDAEEAMAAwADEAMwAuAG4AYQBtAHAAcgBkADAAMQAuAHAAcgBvAGQALgBvAHUAdABsAG8AbwBrAC4AYwBvAG0A]\r\n",
                [
                    IMAPScriptStep(
                        expect: "A1 CAPABILITY\r\n",
                        reply:
                            "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+\r\nA1 OK CAPABILITY completed.\r\n"
                    ),
                    IMAPScriptStep(
                        expect: "A2 AUTHENTICATE PLAIN \(plainIR)\r\n", reply: "A2 NO AUTHENTICATE failed.\r\n"),
                ]
            ) { imap in
                try await imap.login(MailCredentials(username: "help@desk.test", password: "secret"))
            }
        }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.serverText == "AUTHENTICATE failed.")

        try await withScriptedIMAPServer(
            greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n",
            [
                IMAPScriptStep(expect: "A1 AUTHENTICATE PLAIN\r\n", reply: "+ \r\n"),
                IMAPScriptStep(expect: "\(plainIR)\r\n", reply: "A1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n"),
                IMAPScriptStep(
                    expect: "A2 EXAMINE \"Entw&APw-rfe\"\r\n",
                    reply: "* 0 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\nA2 OK [READ-ONLY] Examine completed.\r\n"
                ),
                IMAPScriptStep(expect: "A3 LOGOUT\r\n", reply: "* BYE\r\nA3 OK\r\n"),
            ]
        ) { imap in
            try await imap.login(MailCredentials(username: "help@desk.test", password: "secret"))
            #expect(imap.capabilities == ["IMAP4REV1", "IDLE"])
            let drafts = try await imap.select("Entwürfe", readOnly: true)
            #expect(drafts.isReadOnly && drafts.uidValidity == 7 && drafts.uidNext == nil && drafts.exists == 0)
            await imap.logout()
        }
    }
}
