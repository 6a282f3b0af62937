import Foundation
import Testing

@testable import MailClients

@Suite("SMTP AUTH XOAUTH2")
struct SMTPXOAuth2Tests {
    static let hello: [SMTPScriptStep] = [
        .server("220 smtp.gmail.com ESMTP a1sm123 - gsmtp\r\n"), .client("EHLO desk.test\r\n"),
        .server(
            "250-smtp.gmail.com at your service\r\n250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH\r\n250 SMTPUTF8\r\n"
        ),
    ]

    /// The test token with XOAUTH2 forced: Gmail's EHLO also offers OAUTHBEARER, which `.automatic` would pick.
    static let xoauth2Credentials = MailCredentials.oauth2(
        username: "help@desk.test", accessToken: "ya29.token", mechanism: .xoauth2)

    @Test("a token is sent as AUTH XOAUTH2 with the initial response")
    func accepted() async throws {
        try await runSMTPScript(
            Self.hello + [.client("AUTH XOAUTH2 \(xoauth2IR)\r\n"), .server("235 2.7.0 Accepted\r\n")],
            credentials: Self.xoauth2Credentials
        ) { _ in }
    }

    @Test("a refused token: the 334 JSON challenge is answered with an empty line and quoted with the 535")
    func refused() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runSMTPScript(
                Self.hello + [
                    .client("AUTH XOAUTH2 \(xoauth2IR)\r\n"), .server("334 \(xoauth2ErrorChallenge)\r\n"),
                    .client("\r\n"),
                    .server(
                        "535-5.7.8 Username and Password not accepted. For more information, go to\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1sm123 - gsmtp\r\n"
                    ),
                ],
                credentials: Self.xoauth2Credentials
            ) { _ in }
        }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.replyCode == 535)
        #expect(error?.serverText?.hasPrefix("535-5.7.8 Username and Password not accepted.") == true)
        #expect(error?.serverText?.hasSuffix("\n\(xoauth2ErrorJSON)") == true)
        #expect(error?.oauthFailure == OAuthBearerFailure(status: "400", scope: "https://mail.google.com/"))
    }

    @Test("a token for a relay without AUTH XOAUTH2 fails before AUTH")
    func notOffered() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runSMTPScript(
                [
                    .server("220 relay ESMTP\r\n"), .client("EHLO desk.test\r\n"),
                    .server("250-relay\r\n250 AUTH PLAIN LOGIN\r\n"),
                ],
                credentials: tokenCredentials
            ) { _ in }
        }
        #expect(error?.code == .authenticationMechanismUnsupported)
    }
}
