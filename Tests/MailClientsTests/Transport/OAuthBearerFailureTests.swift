import Foundation
import Testing

@testable import MailClients

/// One error challenge as a server might send it (the text after `+ ` or `334 `), and what we must make of it.
struct OAuthChallengeFixture: Sendable, CustomTestStringConvertible {
    var name: String
    var challenge: String
    var failure: OAuthBearerFailure?
    /// What `serverText` carries of the challenge; nil: only check it is bounded and free of CR/LF.
    var text: String?
    var testDescription: String { name }

    init(_ name: String, json: String, _ failure: OAuthBearerFailure?, text: String? = nil) {
        self.init(name, challenge: Data(json.utf8).base64EncodedString(), failure, text: text ?? json)
    }

    init(_ name: String, challenge: String, _ failure: OAuthBearerFailure?, text: String? = nil) {
        self.name = name
        self.challenge = challenge
        self.failure = failure
        self.text = text
    }
}

private func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

@Suite("OAuth error challenge decoding (RFC 7628 §3.2.2)")
struct OAuthBearerFailureTests {
    static let fixtures: [OAuthChallengeFixture] = [
        .init(
            "Dovecot 2.3.19's OAUTHBEARER error", json: #"{"status":"invalid_token"}"#, .init(status: "invalid_token")),
        .init(
            "Dovecot 2.3.19's XOAUTH2 error", json: #"{"status":"401","schemes":"bearer","scope":"mail"}"#,
            .init(status: "401", scope: "mail")),
        .init(
            "RFC 7628 §4.3's example with openid-configuration",
            json:
                #"{"status":"invalid_token","scope":"example_scope","openid-configuration":"https://example.com/.well-known/openid-configuration"}"#,
            .init(
                status: "invalid_token", scope: "example_scope",
                openidConfiguration: "https://example.com/.well-known/openid-configuration")),
        .init(
            "Google's XOAUTH2 error", json: #"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#,
            .init(status: "400", scope: "https://mail.google.com/")),
        .init(
            "Google's 401 without scope", json: #"{"status":"401","schemes":"bearer"}"#, .init(status: "401")),
        .init(
            "whitespace and escapes", json: "  {\n\"status\" : \"inv\\u0061lid\" , \"scope\":\"a\\/b\"}\n",
            .init(status: "invalid", scope: "a/b"), text: "  {?\"status\" : \"inv\\u0061lid\" , \"scope\":\"a\\/b\"}?"),
        .init("status missing", json: #"{"scope":"mail"}"#, nil),
        .init("status empty", json: #"{"status":""}"#, nil),
        .init("status a number", json: #"{"status":401}"#, nil),
        .init("status null", json: #"{"status":null}"#, nil),
        .init("status an object", json: #"{"status":{"code":"x"}}"#, nil),
        .init(
            "scope not a string is dropped", json: #"{"status":"invalid_token","scope":["a","b"]}"#,
            .init(status: "invalid_token")),
        .init("a JSON array", json: #"["status","invalid_token"]"#, nil),
        .init("a JSON string", json: #""invalid_token""#, nil),
        .init("trailing garbage", json: #"{"status":"x"} trailing"#, nil),
        .init("truncated JSON", json: #"{"status":"inva"#, nil),
        .init("plain text, base64", json: "Invalid credentials", nil),
        .init("not base64 at all", challenge: "this is {not} base64!", nil, text: "this is {not} base64!"),
        .init("empty challenge", challenge: "", nil, text: ""),
        .init(
            "invalid UTF-8 in base64", challenge: base64([0x7B, 0xFF, 0xFE, 0x7D]), nil,
            text: base64([0x7B, 0xFF, 0xFE, 0x7D])),
        .init(
            "CR, LF and NUL inside cannot forge lines", json: "{\"status\":\"x\"}\r\n* OK forged\u{0}", nil,
            text: "{\"status\":\"x\"}??* OK forged?"),
        .init(
            "nested 100,000 deep",
            json: String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
            nil),
        .init(
            "nested objects 100,000 deep",
            json: String(repeating: #"{"a":"#, count: 100_000) + "1"
                + String(repeating: "}", count: 100_000), nil),
        .init(
            "nested 3,000 deep inside the object, under the size limit",
            json: #"{"status":"x","n":"# + String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000)
                + "}", nil),
        .init(
            "one huge status string (1 MB) is not parsed",
            json: #"{"status":""# + String(repeating: "x", count: 1 << 20)
                + #""}"#, nil),
        .init(
            "a long member is cut to 1024 characters",
            json: #"{"status":"invalid_token","scope":""# + String(repeating: "s", count: 5000) + #""}"#,
            .init(status: "invalid_token", scope: String(repeating: "s", count: 1024))),
        .init(
            "duplicate keys do not crash", json: #"{"status":"a","status":"b"}"#, nil),
    ]

    @Test("error challenges decode into OAuthBearerFailure, hostile ones into nil without a crash", arguments: fixtures)
    func decode(_ fixture: OAuthChallengeFixture) {
        let (text, failure) = SASLMechanismEncoding.oauthErrorChallenge(fixture.challenge)
        if fixture.name == "duplicate keys do not crash" {
            // Which of the two wins is the JSON parser's business; it must be one of them.
            #expect(failure == nil || ["a", "b"].contains(failure?.status))
        } else {
            #expect(failure == fixture.failure)
        }
        #expect(text.unicodeScalars.count <= SASLMechanismEncoding.maximumErrorChallengeText)
        #expect(!text.contains("\r") && !text.contains("\n") && !text.contains("\u{0}"))
        if let expected = fixture.text {
            #expect(text == String(expected.prefix(SASLMechanismEncoding.maximumErrorChallengeText)))
        }
    }

    @Test("a 4 MB challenge is handled in one linear pass and its text is kept bounded")
    func hugeChallenge() {
        let challenge = String(repeating: "QUFB", count: 1 << 20)
        let (text, failure) = SASLMechanismEncoding.oauthErrorChallenge(challenge)
        #expect(failure == nil)
        #expect(text == String(repeating: "A", count: SASLMechanismEncoding.maximumErrorChallengeText))
    }
}
