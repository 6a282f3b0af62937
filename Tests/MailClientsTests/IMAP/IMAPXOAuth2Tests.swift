import Foundation
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import MailClients

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
        let capabilities = try await withScriptedIMAPServer(
            greeting: "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2] Gimap ready\r\n",
            [
                IMAPScriptStep(
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
        try await withScriptedIMAPServer(
            greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] ready\r\n",
            [
                IMAPScriptStep(expect: "A1 AUTHENTICATE XOAUTH2\r\n", reply: "+ \r\n"),
                IMAPScriptStep(expect: "\(xoauth2IR)\r\n", reply: "A1 OK Success\r\n"),
                IMAPScriptStep(
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
            try await withScriptedIMAPServer(
                greeting: "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] Gimap ready\r\n",
                [
                    IMAPScriptStep(
                        expect: "A1 AUTHENTICATE XOAUTH2 \(xoauth2IR)\r\n", reply: "+ \(xoauth2ErrorChallenge)\r\n"),
                    IMAPScriptStep(
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
            try await withScriptedIMAPServer(greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Dovecot ready\r\n", []) {
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
        try await withScriptedIMAPServer(
            greeting: "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=LOGIN] ready\r\n",
            [
                IMAPScriptStep(expect: "A1 AUTHENTICATE LOGIN\r\n", reply: "+ VXNlcm5hbWU6\r\n"),
                IMAPScriptStep(expect: "\(user)\r\n", reply: "+ UGFzc3dvcmQ6\r\n"),
                IMAPScriptStep(expect: "\(password)\r\n", reply: "A1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n"),
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
            try await withScriptedIMAPServer(
                greeting: "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=LOGIN] ready\r\n",
                [
                    IMAPScriptStep(expect: "A1 AUTHENTICATE LOGIN\r\n", reply: "+ VXNlcm5hbWU6\r\n"),
                    IMAPScriptStep(expect: "\(user)\r\n", reply: "+ UGFzc3dvcmQ6\r\n"),
                    IMAPScriptStep(
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
