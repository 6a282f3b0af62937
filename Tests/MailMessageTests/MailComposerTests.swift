import Foundation
import MailMessage
import Testing

@Suite("MailComposer")
struct MailComposerTests {
    static func sample(
        subject: String = "[SD-12] Printer", name: String? = "Support Desk", text: String = "Hello\nworld"
    ) -> OutgoingMail {
        OutgoingMail(
            from: MailAddress(name: name, address: "help@desk.test"),
            to: [MailAddress(name: "Alice", address: "alice@x.test")],
            cc: [MailAddress(address: "bob@y.test")], replyTo: [MailAddress(address: "help@desk.test")],
            subject: subject,
            text: text, messageID: "postdesk.1@desk.test", inReplyTo: "orig@x.test",
            references: ["a@x.test", "orig@x.test"],
            date: Date(timeIntervalSince1970: 1_795_169_700), extraHeaders: [("Auto-Submitted", "auto-generated")])
    }

    @Test("composed mail has the headers in order, CRLF line ends and a quoted-printable body")
    func layout() {
        let text = String(decoding: MailComposer.compose(Self.sample()), as: UTF8.self)
        let headerNames = text.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
            .filter { !$0.hasPrefix(" ") }.map { String($0.prefix { $0 != ":" }) }
        #expect(
            headerNames == [
                "Date", "From", "To", "Cc", "Reply-To", "Subject", "Message-ID", "In-Reply-To", "References",
                "MIME-Version",
                "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted",
            ])
        #expect(text.contains("Date: Fri, 20 Nov 2026 10:15:00 +0000\r\n"))
        #expect(text.contains("Message-ID: <postdesk.1@desk.test>\r\n"))
        #expect(text.contains("From: Support Desk <help@desk.test>\r\n"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    static let subjects = [
        "[SD-12] Printer", "Grüße aus München", "【SD-12】プリンターが動きません。至急確認をお願いします。長い件名のテストです。",
        String(repeating: "word ", count: 40), "evil\r\nBcc: victim@x.test", "=?UTF-8?B?looks encoded?=", "😀",
    ]

    @Test("subjects survive compose then parse, folded and never splitting headers", arguments: subjects)
    func subjectRoundTrip(_ subject: String) {
        let raw = MailComposer.compose(Self.sample(subject: subject))
        let mail = MailParser.parse(raw)
        let expected = subject.replacingOccurrences(of: "\r\n", with: "  ").trimmingCharacters(in: .whitespaces)
        #expect(mail.subject == expected)
        #expect(mail.headers["Bcc"] == nil)
        let lines = String(decoding: raw, as: UTF8.self).components(separatedBy: "\r\n\r\n")[0].components(
            separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 78 || !$0.dropFirst().contains(" ") })
    }

    static let names: [String?] = [nil, "Plain", "Doe, John", "Quote \"me\"", "山田 太郎", "Evil\r\nBcc: x@y.test", "=?x?"]

    @Test("display names survive compose then parse", arguments: names)
    func nameRoundTrip(_ name: String?) {
        let mail = MailParser.parse(MailComposer.compose(Self.sample(name: name)))
        let expected = name.map {
            $0.replacingOccurrences(of: "\r\n", with: " ").split(separator: " ").joined(separator: " ")
        }
        #expect(mail.from.first?.name == expected)
        #expect(mail.from.first?.address == "help@desk.test")
        #expect(mail.headers["Bcc"] == nil)
    }

    static let bodies = [
        "Hello\nworld", "Grüße\r\nfrom = here", String(repeating: "long ", count: 100), "trailing space \nnext",
        "From here on",
        "日本語の本文です。" + String(repeating: "あ", count: 100),
    ]

    @Test("bodies survive compose then parse", arguments: bodies)
    func bodyRoundTrip(_ body: String) {
        let mail = MailParser.parse(MailComposer.compose(Self.sample(text: body)))
        #expect(
            mail.text
                == body.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("extra header names and values cannot inject lines")
    func extraHeaders() {
        var mail = Self.sample()
        mail.extraHeaders = [("X-Evil\r\nBcc", "v\r\nBcc: x@y.test"), ("", "dropped")]
        let parsed = MailParser.parse(MailComposer.compose(mail))
        #expect(parsed.headers["Bcc"] == nil)
        #expect(parsed.headers["X-EvilBcc"] == "v  Bcc: x@y.test")
    }

    @Test("message ids are postdesk.<hex>@domain and unique")
    func messageIDs() {
        let first = MailComposer.makeMessageID(domain: "Desk.Test")
        let second = MailComposer.makeMessageID(domain: "desk.test")
        #expect(first.hasPrefix("postdesk."))
        #expect(first.hasSuffix("@desk.test"))
        #expect(first != second)
        #expect(MailComposer.makeMessageID(domain: "<>\r\n").hasSuffix("@localhost"))
    }

    @Test("a composed notification coming back is classified as our own")
    func loop() {
        let verdict = AutoReplyClassifier.classify(MailParser.parse(MailComposer.compose(Self.sample())))
        #expect(verdict.header == "Message-ID")
    }
}
