import MailMessage
import Testing

@Suite("AutoReplyClassifier")
struct AutoReplyClassifierTests {
    struct Fixture: CustomTestStringConvertible, Sendable {
        var headers: [String]
        var header: String?
        var testDescription: String { headers.joined(separator: " | ") }
    }

    static let fixtures: [Fixture] = [
        Fixture(headers: ["From: a@x.test"], header: nil),
        Fixture(
            headers: ["From: a@x.test", "X-Postdesk-Loop: sd", "Auto-Submitted: auto-replied"],
            header: "X-Postdesk-Loop"),
        Fixture(headers: ["From: a@x.test", "Message-ID: <postdesk.abc@desk.test>"], header: "Message-ID"),
        Fixture(
            headers: ["From: a@x.test", "Message-ID: <abc@desk.test>", "In-Reply-To: <postdesk.1@desk.test>"],
            header: nil),
        Fixture(headers: ["From: a@x.test", "Auto-Submitted: auto-replied (vacation)"], header: "Auto-Submitted"),
        Fixture(headers: ["From: a@x.test", "Auto-Submitted: No"], header: nil),
        Fixture(
            headers: ["From: a@x.test", "Content-Type: multipart/report; report-type=delivery-status; boundary=x"],
            header: "Content-Type"),
        Fixture(headers: ["From: a@x.test", "Return-Path: <>"], header: "Return-Path"),
        Fixture(headers: ["From: a@x.test", "Return-Path: <a@x.test>"], header: nil),
        Fixture(headers: ["From: Mail Delivery System <MAILER-DAEMON@x.test>"], header: "From"),
        Fixture(headers: ["From: postmaster@x.test"], header: "From"),
        Fixture(headers: ["From: a@x.test", "Precedence: Bulk"], header: "Precedence"),
        Fixture(headers: ["From: a@x.test", "Precedence: first-class"], header: nil),
        Fixture(headers: ["From: a@x.test", "X-Autoreply: yes"], header: "X-Autoreply"),
        Fixture(headers: ["From: a@x.test", "X-Autorespond: yes"], header: "X-Autorespond"),
        Fixture(headers: ["From: a@x.test", "X-Auto-Response-Suppress: All"], header: "X-Auto-Response-Suppress"),
    ]

    @Test("automatic mail is recognised by the first deciding header", arguments: fixtures)
    func classifies(_ fixture: Fixture) {
        let mail = MailParser.parse(Array((fixture.headers + ["", "body"]).joined(separator: "\r\n").utf8))
        let verdict = AutoReplyClassifier.classify(mail)
        #expect(verdict.header == fixture.header)
        #expect(verdict.isAutomatic == (fixture.header != nil))
        #expect(verdict.reason.isEmpty == (fixture.header == nil))
    }
}
