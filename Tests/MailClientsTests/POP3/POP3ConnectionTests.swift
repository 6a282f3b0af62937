import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import MailClients

/// One step of a scripted POP3 server.
enum POP3ScriptStep: Sendable {
    case server(String)
    case client(String)
    case serverCloses
}

/// Drives a `POP3Connection` over an `NIOAsyncTestingChannel` against a scripted server.
func runPOP3Script<R: Sendable>(
    _ steps: [POP3ScriptStep],
    tls: TLSMode = .none,
    _ body: (POP3Connection) async throws -> R
) async throws -> R {
    let channel = NIOAsyncTestingChannel()
    let asyncChannel = try await channel.testingEventLoop.executeInContext {
        try channel.pipeline.syncOperations.addHandler(POP3ClientHandler(responseTimeout: .seconds(30)))
        return try NIOAsyncChannel<POP3Response, POP3Command>(wrappingChannelSynchronously: channel)
    }
    try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 110))
    let endpoint = MailServerEndpoint(host: "127.0.0.1", port: 110, tls: tls)
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
            let connection = POP3Connection(
                channel: channel,
                inbound: inbound.makeAsyncIterator(),
                outbound: outbound,
                endpoint: endpoint,
                logger: Logger(label: "test")
            )
            try await connection.open()
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

/// A login failure case: what the server says, and the error code and text we must surface.
struct POP3LoginFixture: Sendable, CustomTestStringConvertible {
    var name: String
    var passAnswer: String
    var code: MailClientError.Code
    var testDescription: String { name }
}

@Suite("POP3 connection against a scripted server")
struct POP3ConnectionTests {
    static let greeting: [POP3ScriptStep] = [.server("+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n")]
    static let plainCAPA: [POP3ScriptStep] = [.client("CAPA\r\n"), .server("+OK\r\nUSER\r\nUIDL\r\n.\r\n")]
    static let userPass: [POP3ScriptStep] =
        plainCAPA + [
            .client("USER help@desk.test\r\n"), .server("+OK\r\n"), .client("PASS secret\r\n"),
            .server("+OK Logged in.\r\n"),
        ]
    static let credentials = MailCredentials(username: "help@desk.test", password: "secret")

    @Test("login, UIDL, RETR, DELE, QUIT: the polling cycle")
    func pollingCycle() async throws {
        let fetched = try await runPOP3Script(
            Self.greeting + Self.userPass + [
                .client("STAT\r\n"), .server("+OK 2 320\r\n"),
                .client("LIST\r\n"), .server("+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n"),
                .client("UIDL\r\n"), .server("+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n"),
                .client("UIDL 2\r\n"), .server("+OK 2 QhdPYR:00WBw1Ph7x7\r\n"),
                .client("RETR 2\r\n"), .server("+OK 200 octets\r\nSubject: hi\r\n\r\n..dot\r\n.\r\n"),
                .client("DELE 2\r\n"), .server("+OK message 2 deleted\r\n"),
                .client("NOOP\r\n"), .server("+OK\r\n"),
                .client("QUIT\r\n"), .server("+OK dewey POP3 server signing off (1 messages left)\r\n"),
            ]
        ) { connection in
            try await connection.login(Self.credentials)
            let stat = try await connection.stat()
            #expect(stat == (2, 320))
            let list = try await connection.list()
            #expect(list.map(\.size) == [120, 200])
            let uids = try await connection.uidl()
            #expect(uids.map(\.uid) == ["whqtswO00WBw418f9t5JxYwZ", "QhdPYR:00WBw1Ph7x7"])
            #expect(try await connection.uidl(2) == "QhdPYR:00WBw1Ph7x7")
            let message = try await connection.retrieve(2)
            try await connection.delete(2)
            try await connection.noop()
            try await connection.quit()
            return message
        }
        #expect(fetched == Array("Subject: hi\r\n\r\n.dot\r\n".utf8))
    }

    @Test("AUTH PLAIN is used when CAPA offers SASL PLAIN (RFC 5034)")
    func saslPlain() async throws {
        let initial = try SASLMechanismEncoding.plainInitialResponse(username: "help@desk.test", password: "secret")
        try await runPOP3Script(
            Self.greeting + [
                .client("CAPA\r\n"), .server("+OK\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n"),
                .client("AUTH PLAIN \(initial)\r\n"), .server("+OK Logged in.\r\n"),
            ]
        ) { connection in try await connection.login(Self.credentials) }
    }

    @Test("APOP sends the MD5 of timestamp and password (RFC 1939 §7)")
    func apop() async throws {
        try await runPOP3Script(
            Self.greeting + [
                .client("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"), .server("+OK maildrop has 1 message\r\n"),
            ]
        ) { connection in try await connection.apop(MailCredentials(username: "mrose", password: "tanstaaf")) }
    }

    @Test("APOP without a timestamp is .authenticationMechanismUnsupported")
    func apopUnsupported() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runPOP3Script([.server("+OK ready\r\n")]) { connection in
                try await connection.apop(Self.credentials)
            }
        }
        #expect(error?.code == .authenticationMechanismUnsupported)
    }

    static let loginFailures: [POP3LoginFixture] = [
        .init(
            name: "Outlook bad password",
            passAnswer: "-ERR Logon failure: unknown user name or bad password.",
            code: .authenticationFailed
        ),
        .init(
            name: "Outlook login limit",
            passAnswer:
                "-ERR Exceeded the login limit for a 15 minute period. Reduce the frequency of requests to the POP3 server.",
            code: .authenticationFailed
        ),
        .init(name: "Dovecot [AUTH]", passAnswer: "-ERR [AUTH] Authentication failed.", code: .authenticationFailed),
        .init(
            name: "[IN-USE] is not a credentials problem", passAnswer: "-ERR [IN-USE] Mailbox is locked",
            code: .commandRejected),
        .init(
            name: "[SYS/TEMP] is not a credentials problem", passAnswer: "-ERR [SYS/TEMP] Try again later",
            code: .commandRejected),
        .init(
            name: "[LOGIN-DELAY] is not a credentials problem",
            passAnswer: "-ERR [LOGIN-DELAY] minimum time between mail checks violation",
            code: .commandRejected
        ),
    ]

    @Test("a refused PASS surfaces the server's words verbatim", arguments: loginFailures)
    func loginFailure(_ fixture: POP3LoginFixture) async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runPOP3Script(
                Self.greeting + Self.plainCAPA + [
                    .client("USER help@desk.test\r\n"), .server("+OK\r\n"),
                    .client("PASS secret\r\n"), .server(fixture.passAnswer + "\r\n"),
                ]
            ) { connection in try await connection.login(Self.credentials) }
        }
        #expect(error?.code == fixture.code)
        #expect(error?.serverText == fixture.passAnswer)
        #expect(error.map { "\($0)".contains("secret") } == false)
        if let serverText = error?.serverText, let code = POP3Response.responseCode(in: serverText) {
            #expect(error?.message.contains(code) == true)
        }
    }

    @Test("Outlook's STAT refusal is .commandRejected with its words")
    func statRefused() async throws {
        let text = "-ERR STAT command failed: Exceeded the login limit for a 15 minute period."
        let error = await #expect(throws: MailClientError.self) {
            try await runPOP3Script(
                Self.greeting + Self.userPass + [.client("STAT\r\n"), .server(text + "\r\n")]
            ) { connection in
                try await connection.login(Self.credentials)
                return try await connection.stat().count
            }
        }
        #expect(error?.code == .commandRejected)
        #expect(error?.serverText == text)
    }

    @Test("a server without CAPA gets USER/PASS")
    func noCAPA() async throws {
        try await runPOP3Script(
            Self.greeting + [
                .client("CAPA\r\n"), .server("-ERR unknown command\r\n"),
                .client("USER help@desk.test\r\n"), .server("+OK\r\n"), .client("PASS secret\r\n"), .server("+OK\r\n"),
            ]
        ) { connection in try await connection.login(Self.credentials) }
    }

    @Test("STLS is required but not offered: .starttlsNotOffered, nothing else is sent")
    func stlsNotOffered() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runPOP3Script(Self.greeting + Self.plainCAPA, tls: .starttls) { _ in 0 }
        }
        #expect(error?.code == .starttlsNotOffered)
    }

    @Test("no command may follow QUIT")
    func nothingAfterQuit() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runPOP3Script(Self.greeting + [.client("QUIT\r\n"), .server("+OK bye\r\n")]) { connection in
                try await connection.quit()
                try await connection.noop()
            }
        }
        #expect(error?.code == .protocolViolation)
    }

    @Test("a -ERR greeting is .commandRejected with the server's words")
    func refusedGreeting() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runPOP3Script([.server("-ERR [SYS/TEMP] server busy\r\n")]) { _ in 0 }
        }
        #expect(error?.code == .commandRejected)
        #expect(error?.serverText == "-ERR [SYS/TEMP] server busy")
    }

    @Test("the server closing mid-RETR is .connectionClosed")
    func closedMidRetrieve() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runPOP3Script(
                Self.greeting + [.client("RETR 1\r\n"), .server("+OK\r\nSubject: x\r\n"), .serverCloses]
            ) { connection in try await connection.retrieve(1) }
        }
        #expect(error?.code == .connectionClosed)
    }
}
