import Foundation
import Testing

@testable import MailClients

/// `n,a=help@desk.test,^Ahost=127.0.0.1^Aport=143^Aauth=Bearer ya29.token^A^A`, base64 (the scripted IMAP endpoint).
let imapBearerIR = Data(
    "n,a=help@desk.test,\u{1}host=127.0.0.1\u{1}port=143\u{1}auth=Bearer ya29.token\u{1}\u{1}".utf8
).base64EncodedString()
/// An OAUTHBEARER error challenge JSON with a scope (RFC 7628 §3.2.2) and its base64 form.
let bearerErrorJSON = #"{"status":"invalid_token","schemes":"bearer","scope":"mail"}"#
let bearerErrorChallenge = Data(bearerErrorJSON.utf8).base64EncodedString()

@Suite("IMAP AUTHENTICATE OAUTHBEARER")
struct IMAPOAuthBearerTests {
    static let both = "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER] ready\r\n"

    @Test("automatic picks OAUTHBEARER when offered and sends it with SASL-IR")
    func automatic() async throws {
        try await withScriptedIMAPServer(
            greeting: Self.both,
            [
                IMAPScriptStep(
                    expect: "A1 AUTHENTICATE OAUTHBEARER \(imapBearerIR)\r\n",
                    reply: "A1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n")
            ]
        ) { imap in
            try await imap.login(tokenCredentials)
            #expect(imap.isAuthenticated)
        }
    }

    @Test("a forced XOAUTH2 is used even where OAUTHBEARER is offered")
    func forcedXOAuth2() async throws {
        try await withScriptedIMAPServer(
            greeting: Self.both,
            [
                IMAPScriptStep(
                    expect: "A1 AUTHENTICATE XOAUTH2 \(xoauth2IR)\r\n",
                    reply: "A1 OK [CAPABILITY IMAP4rev1] Logged in\r\n")
            ]
        ) { imap in
            try await imap.login(.oauth2(username: "help@desk.test", accessToken: "ya29.token", mechanism: .xoauth2))
        }
    }

    @Test("without SASL-IR the message answers the server's empty challenge")
    func withoutSASLIR() async throws {
        try await withScriptedIMAPServer(
            greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=OAUTHBEARER] ready\r\n",
            [
                IMAPScriptStep(expect: "A1 AUTHENTICATE OAUTHBEARER\r\n", reply: "+ \r\n"),
                IMAPScriptStep(expect: "\(imapBearerIR)\r\n", reply: "A1 OK [CAPABILITY IMAP4rev1] Logged in\r\n"),
            ]
        ) { imap in try await imap.login(tokenCredentials) }
    }

    @Test("a refused token: the JSON challenge is answered with a lone ^A (RFC 7628 §3.2.3) and decoded")
    func refused() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await withScriptedIMAPServer(
                greeting: Self.both,
                [
                    IMAPScriptStep(
                        expect: "A1 AUTHENTICATE OAUTHBEARER \(imapBearerIR)\r\n",
                        reply: "+ \(bearerErrorChallenge)\r\n"),
                    IMAPScriptStep(
                        expect: "AQ==\r\n", reply: "A1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
                ]
            ) { imap in try await imap.login(tokenCredentials) }
        }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.oauthFailure == OAuthBearerFailure(status: "invalid_token", scope: "mail"))
        #expect(error?.serverText == "[AUTHENTICATIONFAILED] Authentication failed.\n\(bearerErrorJSON)")
        #expect(error.map { !"\($0)".contains("ya29") } == true)
    }

    @Test("a refused XOAUTH2 token gets Google's JSON decoded too")
    func xoauth2Decoded() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await withScriptedIMAPServer(
                greeting: "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] Gimap ready\r\n",
                [
                    IMAPScriptStep(
                        expect: "A1 AUTHENTICATE XOAUTH2 \(xoauth2IR)\r\n", reply: "+ \(xoauth2ErrorChallenge)\r\n"),
                    IMAPScriptStep(expect: "\r\n", reply: "A1 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n"),
                ]
            ) { imap in try await imap.login(tokenCredentials) }
        }
        #expect(error?.oauthFailure == OAuthBearerFailure(status: "400", scope: "https://mail.google.com/"))
    }

    @Test("a hostile challenge: no crash, no oauthFailure, its text kept bounded")
    func hostileChallenge() async throws {
        let junk = String(repeating: "!", count: 6000)
        let error = await #expect(throws: MailClientError.self) {
            try await withScriptedIMAPServer(
                greeting: Self.both,
                [
                    IMAPScriptStep(
                        expect: "A1 AUTHENTICATE OAUTHBEARER \(imapBearerIR)\r\n", reply: "+ \(junk)\r\n"),
                    IMAPScriptStep(expect: "AQ==\r\n", reply: "A1 NO Authentication failed.\r\n"),
                ]
            ) { imap in try await imap.login(tokenCredentials) }
        }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.oauthFailure == nil)
        #expect(
            error?.serverText
                == "Authentication failed.\n"
                + String(repeating: "!", count: SASLMechanismEncoding.maximumErrorChallengeText))
    }

    @Test("a forced OAUTHBEARER where only XOAUTH2 is offered fails before anything is sent, naming the offer")
    func forcedNotOffered() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await withScriptedIMAPServer(
                greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2] ready\r\n", []
            ) { imap in
                try await imap.login(.oauth2(username: "u", accessToken: "t", mechanism: .oauthBearer))
            }
        }
        #expect(error?.code == .authenticationMechanismUnsupported)
        #expect(error?.message.hasSuffix("it offers: PLAIN XOAUTH2") == true)
    }
}
