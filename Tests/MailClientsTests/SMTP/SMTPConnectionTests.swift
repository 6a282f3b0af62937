import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import MailClients

/// One step of a scripted SMTP server: what it sends, or what it expects the client to send.
enum SMTPScriptStep: Sendable {
    case server(String)
    case client(String)
    case serverCloses
}

/// Drives an `SMTPConnection` over an `NIOAsyncTestingChannel` against a scripted server.
func runSMTPScript<R: Sendable>(
    _ steps: [SMTPScriptStep],
    credentials: MailCredentials? = nil,
    tls: TLSMode = .none,
    _ body: (SMTPConnection) async throws -> R
) async throws -> R {
    let channel = NIOAsyncTestingChannel()
    let asyncChannel = try await channel.testingEventLoop.executeInContext {
        try channel.pipeline.syncOperations.addHandler(SMTPClientHandler(replyTimeout: .seconds(30)))
        return try NIOAsyncChannel<SMTPReply, SMTPCommand>(wrappingChannelSynchronously: channel)
    }
    try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25))
    let endpoint = MailServerEndpoint(host: "127.0.0.1", port: 25, tls: tls)
    let server = Task {
        for step in steps {
            switch step {
            case .server(let text):
                try await channel.writeInbound(ByteBuffer(string: text))
            case .client(let expected):
                let written = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
                #expect(String(buffer: written) == expected)
            case .serverCloses:
                try await channel.close()
            }
        }
    }
    do {
        let result = try await asyncChannel.executeThenClose { inbound, outbound in
            let connection = SMTPConnection(
                channel: channel,
                inbound: inbound.makeAsyncIterator(),
                outbound: outbound,
                endpoint: endpoint,
                logger: Logger(label: "test")
            )
            try await connection.open(heloName: "desk.test", credentials: credentials)
            return try await body(connection)
        }
        try await server.value
        return result
    } catch {
        server.cancel()
        _ = try? await channel.close()
        throw error
    }
}

@Suite("SMTP connection against a scripted server")
struct SMTPConnectionTests {
    static let openPlain: [SMTPScriptStep] = [
        .server("220 mx ESMTP\r\n"),
        .client("EHLO desk.test\r\n"),
        .server("250-mx\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n"),
    ]

    @Test("a message goes through MAIL, RCPT, DATA with SIZE= and BODY=8BITMIME; a refused recipient is listed")
    func sendsWithPartialRejection() async throws {
        let message = Array("Subject: café\n\n.hi\n".utf8)
        let receipt = try await runSMTPScript(
            Self.openPlain + [
                .client("MAIL FROM:<desk@desk.test> SIZE=\(message.count) BODY=8BITMIME\r\n"),
                .server("250 2.1.0 Ok\r\n"),
                .client("RCPT TO:<a@x.test>\r\n"),
                .server("250 2.1.5 Ok\r\n"),
                .client("RCPT TO:<nobody@x.test>\r\n"),
                .server("550 5.1.1 <nobody@x.test>: Recipient address rejected\r\n"),
                .client("DATA\r\n"),
                .server("354 End data with <CR><LF>.<CR><LF>\r\n"),
                .client("Subject: café\r\n\r\n..hi\r\n.\r\n"),
                .server("250 2.0.0 Ok: queued as 4F2A1\r\n"),
            ]
        ) { connection in
            try await connection.send(message, from: "desk@desk.test", to: ["a@x.test", "nobody@x.test"])
        }
        #expect(receipt.serverText == "250 2.0.0 Ok: queued as 4F2A1")
        #expect(receipt.acceptedRecipients == ["a@x.test"])
        #expect(receipt.rejectedRecipients.map(\.address) == ["nobody@x.test"])
        #expect(receipt.rejectedRecipients.first?.reply.code == 550)
    }

    @Test("all recipients refused is .commandRejected with the server's words, after RSET")
    func allRecipientsRefused() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runSMTPScript(
                Self.openPlain + [
                    .client("MAIL FROM:<> SIZE=2\r\n"), .server("250 Ok\r\n"),
                    .client("RCPT TO:<a@x.test>\r\n"), .server("550 5.1.1 unknown\r\n"),
                    .client("RSET\r\n"), .server("250 Ok\r\n"),
                ]
            ) { connection in
                try await connection.send(Array("x\n".utf8), from: "", to: ["a@x.test"])
            }
        }
        #expect(error?.code == .commandRejected)
        #expect(error?.replyCode == 550)
        #expect(error?.serverText == "550 5.1.1 unknown")
    }

    @Test("AUTH PLAIN sends the initial response; 535 is .authenticationFailed with the server's words")
    func authFailure() async throws {
        let credentials = MailCredentials(username: "help@desk.test", password: "wrong")
        let initial = try SASLMechanismEncoding.plainInitialResponse(username: "help@desk.test", password: "wrong")
        let error = await #expect(throws: MailClientError.self) {
            try await runSMTPScript(
                Self.openPlain + [
                    .client("AUTH PLAIN \(initial)\r\n"),
                    .server("535-5.7.8 Username and Password not accepted.\r\n535 5.7.8 https://support.example\r\n"),
                ],
                credentials: credentials
            ) { _ in 0 }
        }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.replyCode == 535)
        #expect(error?.serverText == "535-5.7.8 Username and Password not accepted.\n535 5.7.8 https://support.example")
        #expect(error.map { "\($0)".contains("wrong") } == false)
    }

    @Test("AUTH LOGIN answers both 334 challenges when PLAIN is not offered")
    func authLogin() async throws {
        let credentials = MailCredentials(username: "user", password: "pass")
        let reply = try await runSMTPScript(
            [
                .server("220 mx\r\n"), .client("EHLO desk.test\r\n"), .server("250-mx\r\n250 AUTH LOGIN\r\n"),
                .client("AUTH LOGIN\r\n"), .server("334 VXNlcm5hbWU6\r\n"),
                .client("dXNlcg==\r\n"), .server("334 UGFzc3dvcmQ6\r\n"),
                .client("cGFzcw==\r\n"), .server("235 2.7.0 Authentication successful\r\n"),
                .client("NOOP\r\n"), .server("250 2.0.0 Ok\r\n"),
            ],
            credentials: credentials
        ) { connection in try await connection.noop() }
        #expect(reply.code == 250)
    }

    @Test("no common AUTH mechanism is .authenticationMechanismUnsupported")
    func noMechanism() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runSMTPScript(
                [.server("220 mx\r\n"), .client("EHLO desk.test\r\n"), .server("250-mx\r\n250 AUTH XOAUTH2\r\n")],
                credentials: MailCredentials(username: "u", password: "p")
            ) { _ in 0 }
        }
        #expect(error?.code == .authenticationMechanismUnsupported)
    }

    @Test("EHLO refused with 502 falls back to HELO (RFC 5321 §3.2)")
    func heloFallback() async throws {
        let capabilities = try await runSMTPScript(
            [
                .server("220 old\r\n"), .client("EHLO desk.test\r\n"), .server("502 5.5.1 command not recognized\r\n"),
                .client("HELO desk.test\r\n"), .server("250 old\r\n"),
            ]
        ) { connection in connection.capabilities }
        #expect(capabilities.keywords.isEmpty)
    }

    @Test("STARTTLS required but not offered is .starttlsNotOffered; AUTH is never tried in plaintext")
    func startTLSNotOffered() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runSMTPScript(
                Self.openPlain, credentials: MailCredentials(username: "u", password: "p"), tls: .starttls
            ) {
                _ in 0
            }
        }
        #expect(error?.code == .starttlsNotOffered)
    }

    @Test("a 554 greeting is .commandRejected with the server's words")
    func refusedGreeting() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runSMTPScript([.server("554 5.7.1 no service for you\r\n")]) { _ in 0 }
        }
        #expect(error?.code == .commandRejected)
        #expect(error?.serverText == "554 5.7.1 no service for you")
    }

    @Test("a refused message after DATA is .commandRejected with the reply code")
    func refusedAfterData() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runSMTPScript(
                Self.openPlain + [
                    .client("MAIL FROM:<a@b.test> SIZE=2\r\n"), .server("250 Ok\r\n"),
                    .client("RCPT TO:<c@d.test>\r\n"), .server("250 Ok\r\n"),
                    .client("DATA\r\n"), .server("354 go\r\n"),
                    .client("x\r\n.\r\n"), .server("452 4.3.1 Insufficient system storage\r\n"),
                ]
            ) { connection in try await connection.send(Array("x\n".utf8), from: "a@b.test", to: ["c@d.test"]) }
        }
        #expect(error?.code == .commandRejected)
        #expect(error?.replyCode == 452)
    }

    @Test("addresses with CR/LF are refused before anything is sent")
    func injectionRefused() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runSMTPScript(Self.openPlain) { connection in
                try await connection.send(Array("x".utf8), from: "a@b.test", to: ["c@d.test>\r\nRCPT TO:<e@f.test"])
            }
        }
        #expect(error?.code == .protocolViolation)
    }

    @Test("a non-ASCII address needs SMTPUTF8 (RFC 6531)")
    func utf8AddressNeedsSMTPUTF8() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runSMTPScript(Self.openPlain) { connection in
                try await connection.send(Array("x".utf8), from: "a@b.test", to: ["jürgen@x.test"])
            }
        }
        #expect(error?.code == .protocolViolation)
    }

    @Test("the server closing mid-session is .connectionClosed")
    func serverCloses() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runSMTPScript([
                .server("220 mx\r\n"), .client("EHLO desk.test\r\n"), .server("250-mx\r\n250"), .serverCloses,
            ]) {
                connection in try await connection.noop()
            }
        }
        // The script ends with a partial reply; closing the channel then ends the session.
        #expect(error?.code == .connectionClosed)
    }
}
