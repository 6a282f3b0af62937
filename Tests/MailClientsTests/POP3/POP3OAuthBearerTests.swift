import Foundation
import Testing

@testable import MailClients

@Suite("POP3 AUTH OAUTHBEARER")
struct POP3OAuthBearerTests {
    static let greeting: [POP3ScriptStep] = [
        .server("+OK Dovecot ready.\r\n"), .client("CAPA\r\n"),
        .server("+OK\r\nTOP\r\nUIDL\r\nSASL PLAIN LOGIN XOAUTH2 OAUTHBEARER\r\nUSER\r\n.\r\n"),
    ]
    /// The OAUTHBEARER message for the scripted endpoint 127.0.0.1:110.
    static func message(_ token: String) -> String {
        Data("n,a=help@desk.test,\u{1}host=127.0.0.1\u{1}port=110\u{1}auth=Bearer \(token)\u{1}\u{1}".utf8)
            .base64EncodedString()
    }

    @Test("automatic picks OAUTHBEARER from CAPA's SASL line, with the initial response on the AUTH line")
    func automatic() async throws {
        try await runPOP3Script(
            Self.greeting + [
                .client("AUTH OAUTHBEARER \(Self.message("ya29.token"))\r\n"), .server("+OK Logged in.\r\n"),
            ]
        ) { pop3 in try await pop3.login(tokenCredentials) }
    }

    @Test("a forced XOAUTH2 is used even where OAUTHBEARER is offered")
    func forcedXOAuth2() async throws {
        try await runPOP3Script(
            Self.greeting + [.client("AUTH XOAUTH2 \(xoauth2IR)\r\n"), .server("+OK Logged in.\r\n")]
        ) { pop3 in
            try await pop3.login(.oauth2(username: "help@desk.test", accessToken: "ya29.token", mechanism: .xoauth2))
        }
    }

    @Test("a token too long for a 255-octet line answers the server's empty challenge")
    func longToken() async throws {
        let token = String(repeating: "t", count: 300)
        try await runPOP3Script(
            Self.greeting + [
                .client("AUTH OAUTHBEARER\r\n"), .server("+ \r\n"), .client("\(Self.message(token))\r\n"),
                .server("+OK Logged in.\r\n"),
            ]
        ) { pop3 in try await pop3.login(.oauth2(username: "help@desk.test", accessToken: token)) }
    }

    @Test("a refused token: the JSON challenge is answered with a lone ^A and decoded into oauthFailure")
    func refused() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runPOP3Script(
                Self.greeting + [
                    .client("AUTH OAUTHBEARER \(Self.message("ya29.token"))\r\n"),
                    .server("+ \(bearerErrorChallenge)\r\n"), .client("AQ==\r\n"),
                    .server("-ERR [AUTH] Authentication failed.\r\n"),
                ]
            ) { pop3 in try await pop3.login(tokenCredentials) }
        }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.oauthFailure == OAuthBearerFailure(status: "invalid_token", scope: "mail"))
        #expect(error?.serverText == "-ERR [AUTH] Authentication failed.\n\(bearerErrorJSON)")
    }

    @Test("a refused XOAUTH2 token gets the JSON decoded too")
    func xoauth2Decoded() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runPOP3Script(
                Self.greeting + [
                    .client("AUTH XOAUTH2 \(xoauth2IR)\r\n"), .server("+ \(xoauth2ErrorChallenge)\r\n"),
                    .client("\r\n"), .server("-ERR [AUTH] Invalid credentials.\r\n"),
                ]
            ) { pop3 in
                try await pop3.login(
                    .oauth2(username: "help@desk.test", accessToken: "ya29.token", mechanism: .xoauth2))
            }
        }
        #expect(error?.oauthFailure?.status == "400")
    }

    @Test("a forced OAUTHBEARER where it is not offered fails before AUTH, naming the offer")
    func forcedNotOffered() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runPOP3Script(
                [.server("+OK ready.\r\n"), .client("CAPA\r\n"), .server("+OK\r\nSASL PLAIN XOAUTH2\r\nUSER\r\n.\r\n")]
            ) { pop3 in try await pop3.login(.oauth2(username: "u", accessToken: "t", mechanism: .oauthBearer)) }
        }
        #expect(error?.code == .authenticationMechanismUnsupported)
        #expect(error?.message.hasSuffix("it offers: PLAIN XOAUTH2") == true)
    }
}
