import Testing

@testable import MailClients

/// An EHLO reply and what must be read from it.
struct SMTPCapabilitiesFixture: Sendable, CustomTestStringConvertible {
    var name: String
    var lines: [String]
    var startTLS: Bool
    var auth: [String]
    var size: Int?
    var eightBit: Bool
    var utf8: Bool
    var pipelining: Bool
    var testDescription: String { name }
}

@Suite("EHLO capabilities")
struct SMTPCapabilitiesTests {
    static let fixtures: [SMTPCapabilitiesFixture] = [
        .init(
            name: "OpenSMTPD 6.8 on a STARTTLS listener (real transcript)",
            lines: [
                "localhost Hello x.test [127.0.0.1], pleased to meet you", "8BITMIME", "ENHANCEDSTATUSCODES",
                "SIZE 36700160", "DSN", "STARTTLS", "HELP",
            ],
            startTLS: true, auth: [], size: 36_700_160, eightBit: true, utf8: false, pipelining: false
        ),
        .init(
            name: "Gmail smtp.gmail.com:587 after STARTTLS",
            lines: [
                "smtp.gmail.com at your service, [203.0.113.5]", "SIZE 35882577", "8BITMIME",
                "AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH", "ENHANCEDSTATUSCODES", "PIPELINING",
                "CHUNKING", "SMTPUTF8",
            ],
            startTLS: false, auth: ["LOGIN", "PLAIN", "XOAUTH2", "PLAIN-CLIENTTOKEN", "OAUTHBEARER", "XOAUTH"],
            size: 35_882_577, eightBit: true, utf8: true, pipelining: true
        ),
        .init(
            name: "legacy AUTH= line and lower case keywords",
            lines: ["mx.example", "auth=LOGIN PLAIN", "size", "starttls"],
            startTLS: true, auth: ["LOGIN", "PLAIN"], size: nil, eightBit: false, utf8: false, pipelining: false
        ),
        .init(
            name: "SIZE 0 means no fixed limit (RFC 1870 §4)",
            lines: ["mx.example", "SIZE 0"],
            startTLS: false, auth: [], size: nil, eightBit: false, utf8: false, pipelining: false
        ),
        .init(
            name: "garbage lines are skipped",
            lines: ["mx.example", "-BAD", "", "   ", "ÜBER", "8BITMIME"],
            startTLS: false, auth: [], size: nil, eightBit: true, utf8: false, pipelining: false
        ),
    ]

    @Test("keywords are read from an EHLO reply", arguments: fixtures)
    func parse(_ fixture: SMTPCapabilitiesFixture) {
        let capabilities = SMTPCapabilities.parse(ehloReply: SMTPReply(code: 250, lines: fixture.lines))
        #expect(capabilities.supportsStartTLS == fixture.startTLS)
        #expect(capabilities.authenticationMechanisms == fixture.auth)
        #expect(capabilities.maximumMessageSize == fixture.size)
        #expect(capabilities.supports8BitMIME == fixture.eightBit)
        #expect(capabilities.supportsSMTPUTF8 == fixture.utf8)
        #expect(capabilities.supportsPipelining == fixture.pipelining)
    }

    @Test("the server domain is the first word of the first line")
    func serverDomain() {
        let capabilities = SMTPCapabilities.parse(ehloReply: SMTPReply(code: 250, lines: ["vm Hello x"]))
        #expect(capabilities.serverDomain == "vm")
        #expect(capabilities.keywords.isEmpty)
    }
}
