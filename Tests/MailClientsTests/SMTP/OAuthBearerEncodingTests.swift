import Foundation
import Testing

@testable import MailClients

/// One OAUTHBEARER initial response: the inputs and the exact message (before base64) RFC 7628 §3.1 asks for.
struct OAuthBearerEncodingFixture: Sendable, CustomTestStringConvertible {
    var name: String
    var username: String
    var host: String?
    var port: Int?
    var message: String
    var testDescription: String { name }
}

/// One mechanism choice: what the credentials ask for, what the server offers, and what is used (nil: refused).
struct OAuthMechanismChoiceFixture: Sendable, CustomTestStringConvertible {
    var requested: OAuthMechanism
    var offered: [String]
    var chosen: SASLOAuthMechanism?
    var testDescription: String { "\(requested) with \(offered.joined(separator: " "))" }
}

@Suite("SASL OAUTHBEARER encoding (RFC 7628, RFC 5801)")
struct OAuthBearerEncodingTests {
    static let fixtures: [OAuthBearerEncodingFixture] = [
        .init(
            name: "host and port from the endpoint", username: "help@desk.test", host: "imap.example.com", port: 993,
            message: "n,a=help@desk.test,\u{1}host=imap.example.com\u{1}port=993\u{1}auth=Bearer tok\u{1}\u{1}"),
        .init(
            name: "no host: neither host nor port", username: "u", host: nil, port: 143,
            message: "n,a=u,\u{1}auth=Bearer tok\u{1}\u{1}"),
        .init(
            name: "comma and equals are escaped as =2C and =3D (RFC 5801 §4)", username: "a,b=c@x", host: nil,
            port: nil, message: "n,a=a=2Cb=3Dc@x,\u{1}auth=Bearer tok\u{1}\u{1}"),
        .init(
            name: "an escape-looking name is escaped, not kept", username: "=2C=3D,", host: nil, port: nil,
            message: "n,a==3D2C=3D3D=2C,\u{1}auth=Bearer tok\u{1}\u{1}"),
        .init(
            name: "UTF-8 names pass unchanged", username: "jörg@bücher.test", host: nil, port: nil,
            message: "n,a=jörg@bücher.test,\u{1}auth=Bearer tok\u{1}\u{1}"),
        .init(
            name: "a host with a space or control is left out", username: "u", host: "bad host\u{1}", port: 25,
            message: "n,a=u,\u{1}auth=Bearer tok\u{1}\u{1}"),
        .init(
            name: "a port of 0 is left out", username: "u", host: "127.0.0.1", port: 0,
            message: "n,a=u,\u{1}host=127.0.0.1\u{1}auth=Bearer tok\u{1}\u{1}"),
    ]

    @Test("the initial response is the GS2 header, host, port and auth kvpairs, base64", arguments: fixtures)
    func initialResponse(_ fixture: OAuthBearerEncodingFixture) throws {
        let encoded = try SASLMechanismEncoding.oauthBearerInitialResponse(
            username: fixture.username, accessToken: "tok", host: fixture.host, port: fixture.port)
        #expect(encoded == Data(fixture.message.utf8).base64EncodedString())
        let decoded = try #require(Data(base64Encoded: encoded))
        #expect(String(decoding: decoded, as: UTF8.self) == fixture.message)
    }

    @Test(
        "empty or control-character user names and tokens are refused before anything is sent",
        arguments: [("", "tok"), ("u", ""), ("u\u{1}auth=Bearer x", "tok"), ("u", "tok\u{1}\u{1}"), ("u\r\n", "t")])
    func refusesControls(_ input: (String, String)) {
        let error = #expect(throws: MailClientError.self) {
            try SASLMechanismEncoding.oauthBearerInitialResponse(
                username: input.0, accessToken: input.1, host: nil, port: nil)
        }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.message.contains(input.1.isEmpty ? "access token" : "OAUTHBEARER") == true)
    }

    @Test("the error challenge is answered with a lone %x01 for OAUTHBEARER and an empty line for XOAUTH2")
    func errorAnswers() throws {
        let bearer = SASLMechanismEncoding.errorChallengeAnswer(.oauthBearer)
        #expect(bearer == "AQ==")
        #expect(Array(try #require(Data(base64Encoded: bearer))) == [0x01])
        #expect(SASLMechanismEncoding.errorChallengeAnswer(.xoauth2) == "")
    }

    @Test("the XOAUTH2 message keeps its own shape (no GS2 header, no escaping)")
    func xoauth2Unchanged() throws {
        let encoded = try SASLMechanismEncoding.oauthInitialResponse(
            .xoauth2, username: "a,b=c", accessToken: "tok", host: "h", port: 1)
        #expect(encoded == Data("user=a,b=c\u{1}auth=Bearer tok\u{1}\u{1}".utf8).base64EncodedString())
    }

    @Test("escaping is linear: a 1 MB user name of commas is escaped in one pass")
    func escapingIsLinear() {
        let name = String(repeating: ",=", count: 500_000)
        let escaped = SASLMechanismEncoding.gs2SASLName(name)
        #expect(escaped.utf8.count == 3_000_000)
        #expect(escaped.hasPrefix("=2C=3D=2C"))
    }

    static let choices: [OAuthMechanismChoiceFixture] = [
        .init(requested: .automatic, offered: ["PLAIN", "XOAUTH2", "OAUTHBEARER"], chosen: .oauthBearer),
        .init(requested: .automatic, offered: ["PLAIN", "XOAUTH2"], chosen: .xoauth2),
        .init(requested: .automatic, offered: ["oauthbearer"], chosen: .oauthBearer),
        .init(requested: .automatic, offered: ["PLAIN", "LOGIN"], chosen: nil),
        .init(requested: .automatic, offered: [], chosen: nil),
        .init(requested: .xoauth2, offered: ["XOAUTH2", "OAUTHBEARER"], chosen: .xoauth2),
        .init(requested: .xoauth2, offered: ["OAUTHBEARER", "PLAIN"], chosen: nil),
        .init(requested: .oauthBearer, offered: ["XOAUTH2", "OAUTHBEARER"], chosen: .oauthBearer),
        .init(requested: .oauthBearer, offered: ["XOAUTH2", "PLAIN"], chosen: nil),
    ]

    @Test("automatic prefers OAUTHBEARER; a forced mechanism that is not offered names what is", arguments: choices)
    func choice(_ fixture: OAuthMechanismChoiceFixture) throws {
        guard let chosen = fixture.chosen else {
            let error = #expect(throws: MailClientError.self) {
                try SASLOAuthMechanism.choose(fixture.requested, offered: fixture.offered)
            }
            #expect(error?.code == .authenticationMechanismUnsupported)
            let list = fixture.offered.isEmpty ? "none" : fixture.offered.joined(separator: " ")
            #expect(error?.message.hasSuffix("it offers: \(list)") == true, "\(String(describing: error))")
            return
        }
        #expect(try SASLOAuthMechanism.choose(fixture.requested, offered: fixture.offered) == chosen)
    }

    @Test("existing call sites keep compiling: oauth2(username:accessToken:) is automatic, the token stays hidden")
    func credentials() {
        let automatic = MailCredentials.oauth2(username: "u", accessToken: "ya29.secret")
        #expect(automatic.secret == .oauth2AccessToken("ya29.secret"))
        #expect(automatic.oauthMechanism == .automatic)
        let forced = MailCredentials.oauth2(username: "u", accessToken: "ya29.secret", mechanism: .xoauth2)
        #expect(forced.secret == .oauth2AccessToken("ya29.secret", mechanism: .xoauth2))
        #expect(forced.oauth2AccessToken == "ya29.secret")
        #expect(!forced.description.contains("ya29"))
        #expect(MailCredentials(username: "u", password: "p").oauthMechanism == nil)
        #expect(SMTPCommand.authOAuthBearer(initialResponse: "dG9r").description == "AUTH OAUTHBEARER <redacted>")
        #expect(POP3Command.authOAuthBearer(initialResponse: "dG9r").description == "AUTH OAUTHBEARER <redacted>")
    }
}
