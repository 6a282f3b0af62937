import Foundation
import Testing

@testable import MailClients

@Suite("POP3 AUTH XOAUTH2")
struct POP3XOAuth2Tests {
    static let greeting: [POP3ScriptStep] = [
        .server("+OK The Microsoft Exchange POP3 service is ready.\r\n"), .client("CAPA\r\n"),
        .server("+OK\r\nTOP\r\nUIDL\r\nSASL PLAIN XOAUTH2\r\nUSER\r\n.\r\n"),
    ]

    @Test("a short token goes on the AUTH line (RFC 5034 §4)")
    func initialResponse() async throws {
        try await runPOP3Script(
            Self.greeting + [
                .client("AUTH XOAUTH2 \(xoauth2IR)\r\n"), .server("+OK User successfully authenticated.\r\n"),
            ]
        ) { pop3 in try await pop3.login(tokenCredentials) }
    }

    @Test("a token too long for a 255-octet line answers the server's empty challenge")
    func longToken() async throws {
        let token = String(repeating: "t", count: 300)
        let credentials = MailCredentials.oauth2(username: "help@desk.test", accessToken: token)
        let response = Data("user=help@desk.test\u{1}auth=Bearer \(token)\u{1}\u{1}".utf8).base64EncodedString()
        try await runPOP3Script(
            Self.greeting + [
                .client("AUTH XOAUTH2\r\n"), .server("+ \r\n"), .client("\(response)\r\n"),
                .server("+OK User successfully authenticated.\r\n"),
            ]
        ) { pop3 in try await pop3.login(credentials) }
    }

    @Test("a refused token: the JSON challenge is answered with an empty line and quoted with the -ERR")
    func refused() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runPOP3Script(
                Self.greeting + [
                    .client("AUTH XOAUTH2 \(xoauth2IR)\r\n"), .server("+ \(xoauth2ErrorChallenge)\r\n"),
                    .client("\r\n"), .server("-ERR [AUTH] Invalid credentials.\r\n"),
                ]
            ) { pop3 in try await pop3.login(tokenCredentials) }
        }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.serverText == "-ERR [AUTH] Invalid credentials.\n\(xoauth2ErrorJSON)")
    }

    @Test("a token for a server without SASL XOAUTH2 fails before AUTH")
    func notOffered() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runPOP3Script(
                [
                    .server("+OK Dovecot ready.\r\n"), .client("CAPA\r\n"),
                    .server("+OK\r\nSASL PLAIN\r\nUSER\r\n.\r\n"),
                ]
            ) { pop3 in try await pop3.login(tokenCredentials) }
        }
        #expect(error?.code == .authenticationMechanismUnsupported)
    }
}
