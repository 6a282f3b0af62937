import Foundation
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import MailClients

/// One step of a scripted IMAP server: what the client must send (nil: nothing), then what the server answers.
private struct XOAuth2Step: Sendable {
    var expect: String?
    var reply: String
}

/// Runs `body` against an `IMAPConnection` whose server side follows `script` on an `NIOAsyncTestingChannel`.
private func withXOAuth2Server<R: Sendable>(
    greeting: String,
    _ script: [XOAuth2Step],
    _ body: (IMAPConnection) async throws -> R
) async throws -> R {
    let channel = NIOAsyncTestingChannel()
    let asyncChannel = try await channel.testingEventLoop.executeInContext {
        try channel.pipeline.syncOperations.addHandler(IMAPClientHandler(commandTimeout: .seconds(5)))
        return try NIOAsyncChannel<IMAPResponse, IMAPClientRequest>(wrappingChannelSynchronously: channel)
    }
    try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 143))
    let endpoint = MailServerEndpoint(host: "127.0.0.1", port: 143, tls: .none, commandTimeout: .seconds(5))
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

/// `user=help@desk.test^Aauth=Bearer ya29.token^A^A`, base64.
let xoauth2IR = Data("user=help@desk.test\u{1}auth=Bearer ya29.token\u{1}\u{1}".utf8).base64EncodedString()
/// Google's error challenge JSON and its base64 form.
let xoauth2ErrorJSON = #"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#
let xoauth2ErrorChallenge = Data(xoauth2ErrorJSON.utf8).base64EncodedString()
let tokenCredentials = MailCredentials.oauth2(username: "help@desk.test", accessToken: "ya29.token")

@Suite("IMAP AUTHENTICATE XOAUTH2")
struct IMAPXOAuth2Tests {
    @Test("a token is sent with SASL-IR when offered, and the OK's CAPABILITY code saves a round trip")
    func saslIR() async throws {
        let capabilities = try await withXOAuth2Server(
            greeting: "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2] Gimap ready\r\n",
            [
                XOAuth2Step(
                    expect: "A1 AUTHENTICATE XOAUTH2 \(xoauth2IR)\r\n",
                    reply: "A1 OK [CAPABILITY IMAP4rev1 IDLE] help@desk.test authenticated (Success)\r\n")
            ]
        ) { imap in
            try await imap.login(tokenCredentials)
            #expect(imap.isAuthenticated)
            return imap.capabilities
        }
        #expect(capabilities == ["IMAP4REV1", "IDLE"])
    }

    @Test("without SASL-IR the token answers the server's empty challenge")
    func withoutSASLIR() async throws {
        try await withXOAuth2Server(
            greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] ready\r\n",
            [
                XOAuth2Step(expect: "A1 AUTHENTICATE XOAUTH2\r\n", reply: "+ \r\n"),
                XOAuth2Step(expect: "\(xoauth2IR)\r\n", reply: "A1 OK Success\r\n"),
                XOAuth2Step(
                    expect: "A2 CAPABILITY\r\n", reply: "* CAPABILITY IMAP4rev1 IDLE\r\nA2 OK CAPABILITY completed\r\n"),
            ]
        ) { imap in
            try await imap.login(tokenCredentials)
            #expect(imap.isAuthenticated)
        }
    }

    @Test("a refused token: the JSON challenge is answered with an empty line and quoted with the NO")
    func refused() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await withXOAuth2Server(
                greeting: "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] Gimap ready\r\n",
                [
                    XOAuth2Step(
                        expect: "A1 AUTHENTICATE XOAUTH2 \(xoauth2IR)\r\n", reply: "+ \(xoauth2ErrorChallenge)\r\n"),
                    XOAuth2Step(
                        expect: "\r\n", reply: "A1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n"),
                ]
            ) { imap in try await imap.login(tokenCredentials) }
        }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.serverText == "[AUTHENTICATIONFAILED] Invalid credentials (Failure)\n\(xoauth2ErrorJSON)")
    }

    @Test("a token for a server without AUTH=XOAUTH2 fails before anything is sent")
    func notOffered() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await withXOAuth2Server(greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Dovecot ready\r\n", []) {
                imap in try await imap.login(tokenCredentials)
            }
        }
        #expect(error?.code == .authenticationMechanismUnsupported)
    }

    @Test("credentials keep the password initializer and never show a token or password")
    func credentials() {
        let password = MailCredentials(username: "u", password: "p4ss")
        #expect(password.secret == .password("p4ss"))
        #expect(password.password == "p4ss")
        #expect(password.oauth2AccessToken == nil)
        #expect(!password.description.contains("p4ss"))
        #expect(tokenCredentials.oauth2AccessToken == "ya29.token")
        #expect(tokenCredentials.password == "")
        #expect(!tokenCredentials.description.contains("ya29"))
    }
}

@Suite("IMAP AUTHENTICATE LOGIN")
struct IMAPSASLLoginTests {
    @Test("with LOGINDISABLED and AUTH=LOGIN, the user name and password answer the two challenges in base64")
    func saslLogin() async throws {
        let user = Data("help@desk.test".utf8).base64EncodedString()
        let password = Data("p\"ss wörd".utf8).base64EncodedString()
        try await withXOAuth2Server(
            greeting: "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=LOGIN] ready\r\n",
            [
                XOAuth2Step(expect: "A1 AUTHENTICATE LOGIN\r\n", reply: "+ VXNlcm5hbWU6\r\n"),
                XOAuth2Step(expect: "\(user)\r\n", reply: "+ UGFzc3dvcmQ6\r\n"),
                XOAuth2Step(expect: "\(password)\r\n", reply: "A1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n"),
            ]
        ) { imap in
            try await imap.login(MailCredentials(username: "help@desk.test", password: "p\"ss wörd"))
            #expect(imap.isAuthenticated)
        }
    }

    @Test("a refused AUTHENTICATE LOGIN is authenticationFailed with the server's words")
    func refused() async throws {
        let user = Data("help@desk.test".utf8).base64EncodedString()
        let password = Data("wrong".utf8).base64EncodedString()
        let error = await #expect(throws: MailClientError.self) {
            try await withXOAuth2Server(
                greeting: "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=LOGIN] ready\r\n",
                [
                    XOAuth2Step(expect: "A1 AUTHENTICATE LOGIN\r\n", reply: "+ VXNlcm5hbWU6\r\n"),
                    XOAuth2Step(expect: "\(user)\r\n", reply: "+ UGFzc3dvcmQ6\r\n"),
                    XOAuth2Step(
                        expect: "\(password)\r\n", reply: "A1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
                ]
            ) { imap in
                try await imap.login(MailCredentials(username: "help@desk.test", password: "wrong"))
            }
        }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.serverText?.contains("[AUTHENTICATIONFAILED]") == true)
    }
}
