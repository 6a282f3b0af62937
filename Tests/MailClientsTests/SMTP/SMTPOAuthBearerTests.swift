import Foundation
import Testing

@testable import MailClients

@Suite("SMTP AUTH OAUTHBEARER")
struct SMTPOAuthBearerTests {
    /// The OAUTHBEARER message for the scripted endpoint 127.0.0.1:25.
    static let message = Data(
        "n,a=help@desk.test,\u{1}host=127.0.0.1\u{1}port=25\u{1}auth=Bearer ya29.token\u{1}\u{1}".utf8
    ).base64EncodedString()

    @Test("automatic picks OAUTHBEARER from Gmail's EHLO AUTH list")
    func automatic() async throws {
        try await runSMTPScript(
            SMTPXOAuth2Tests.hello + [
                .client("AUTH OAUTHBEARER \(Self.message)\r\n"), .server("235 2.7.0 Accepted\r\n"),
            ],
            credentials: tokenCredentials
        ) { _ in }
    }

    @Test("a refused token: the 334 JSON challenge is answered with a lone ^A and decoded into oauthFailure")
    func refused() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runSMTPScript(
                SMTPXOAuth2Tests.hello + [
                    .client("AUTH OAUTHBEARER \(Self.message)\r\n"), .server("334 \(bearerErrorChallenge)\r\n"),
                    .client("AQ==\r\n"), .server("535 5.7.8 Authentication failed\r\n"),
                ],
                credentials: tokenCredentials
            ) { _ in }
        }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.replyCode == 535)
        #expect(error?.oauthFailure == OAuthBearerFailure(status: "invalid_token", scope: "mail"))
        #expect(error?.serverText == "535 5.7.8 Authentication failed\n\(bearerErrorJSON)")
    }

    @Test("a forced OAUTHBEARER where it is not offered fails before AUTH, naming the offer")
    func forcedNotOffered() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await runSMTPScript(
                [
                    .server("220 relay ESMTP\r\n"), .client("EHLO desk.test\r\n"),
                    .server("250-relay\r\n250 AUTH PLAIN LOGIN XOAUTH2\r\n"),
                ],
                credentials: .oauth2(username: "u", accessToken: "t", mechanism: .oauthBearer)
            ) { _ in }
        }
        #expect(error?.code == .authenticationMechanismUnsupported)
        #expect(error?.message.hasSuffix("it offers: PLAIN LOGIN XOAUTH2") == true)
    }
}
