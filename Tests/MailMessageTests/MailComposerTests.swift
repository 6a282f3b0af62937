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

    /// The header section of composed bytes, as its lines without CRLF.
    static func headerLines(_ raw: [UInt8]) -> [String] {
        String(decoding: raw, as: UTF8.self).components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
    }

    /// The encoded-words ("=?…?=" tokens) on a header line.
    static func encodedWords(_ line: String) -> [Substring] {
        line.split(separator: " ").filter { $0.hasPrefix("=?") && $0.hasSuffix("?=") }
    }

    /// Checks the folding rules on every header line: RFC 5322 §2.1.1 (78 octets), RFC 2047 §2 (a line with an
    /// encoded-word at most 76, an encoded-word at most 75) and §5 (3) (each word is whole characters: it decodes
    /// alone, without a note and without a replacement character).
    static func expectFolded(_ raw: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        for line in headerLines(raw) {
            #expect(line.utf8.count <= 78, "\(line)", sourceLocation: sourceLocation)
            let words = encodedWords(line)
            if !words.isEmpty { #expect(line.utf8.count <= 76, "\(line)", sourceLocation: sourceLocation) }
            for word in words {
                #expect(word.utf8.count <= 75, "\(word)", sourceLocation: sourceLocation)
                let alone = MailParser.parse(Array("Subject: \(word)\r\n\r\n".utf8))
                #expect(alone.notes.isEmpty, "\(word)", sourceLocation: sourceLocation)
                #expect(alone.subject?.contains("\u{FFFD}") == false, "\(word)", sourceLocation: sourceLocation)
                #expect(alone.subject?.hasPrefix("=?") == false, "\(word)", sourceLocation: sourceLocation)
            }
        }
    }

    static let longSubjects = [
        String(repeating: "abcdefghij", count: 50),
        String(repeating: "日本語の件名です", count: 37) + "終わり",
        "[SD-42] " + String(repeating: "x", count: 120) + " 件名 https://desk.test/requests/SD-42?"
            + String(repeating: "a=b&", count: 40) + " 😀👨‍👩‍👧‍👦 e\u{301}nd",
        "Printer " + String(repeating: "jammed", count: 30) + " again",
        "a" + String(repeating: " ", count: 200) + "b",
        String(repeating: "👨‍👩‍👧‍👦", count: 40),
    ]

    @Test(
        "long subjects without spaces fold into encoded-words of whole characters and lines of at most 78 octets",
        arguments: longSubjects)
    func longSubject(_ subject: String) {
        let raw = MailComposer.compose(Self.sample(subject: subject))
        Self.expectFolded(raw)
        #expect(MailParser.parse(raw).subject == subject)
        #expect(Self.headerLines(raw).contains { $0.hasPrefix("Subject: =?UTF-8?") })
    }

    @Test("the subjects of the brief: 500 ASCII characters, 300 Japanese ones, and a mix")
    func briefSubjects() {
        let ascii = String(repeating: "x", count: 500)
        let japanese = String(repeating: "日本語", count: 100)
        let mixed = "Re: [SD-7] " + String(repeating: "Druckerstau—紙詰まり", count: 20)
        #expect(ascii.count == 500 && japanese.count == 300)
        for subject in [ascii, japanese, mixed] {
            let raw = MailComposer.compose(Self.sample(subject: subject))
            Self.expectFolded(raw)
            #expect(MailParser.parse(raw).subject == subject)
        }
    }

    static let longNames = [
        String(repeating: "Desk", count: 50), String(repeating: "山田太郎", count: 25),
        String(repeating: "Doe,John;", count: 20), "Support " + String(repeating: "Team", count: 30) + " Tokyo",
    ]

    @Test("long display names without spaces fold into encoded-words too", arguments: longNames)
    func longName(_ name: String) {
        var mail = Self.sample(name: name)
        mail.to = [
            MailAddress(name: name, address: "alice@x.test"), MailAddress(name: "Bob " + name, address: "bob@x.test"),
        ]
        let raw = MailComposer.compose(mail)
        Self.expectFolded(raw)
        let parsed = MailParser.parse(raw)
        #expect(parsed.from.first?.name == name)
        #expect(parsed.from.first?.address == "help@desk.test")
        #expect(parsed.to.map(\.name) == [name, "Bob " + name])
        #expect(parsed.to.map(\.address) == ["alice@x.test", "bob@x.test"])
    }

    static let longBodies = [
        String(repeating: "x", count: 5_000), String(repeating: "日本語", count: 1_000),
        "x" + String(repeating: " ", count: 2_000) + "y", String(repeating: "=", count: 1_500),
        String(repeating: "word ", count: 400) + "\n" + String(repeating: "ä", count: 600),
    ]

    @Test(
        "body lines longer than 998 octets go out quoted-printable in lines of at most 76 and come back exactly",
        arguments: longBodies)
    func longBodyLines(_ body: String) {
        let raw = MailComposer.compose(Self.sample(text: body))
        let text = String(decoding: raw, as: UTF8.self)
        let bodyLines = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
            .components(separatedBy: "\r\n")
        #expect(text.contains("Content-Transfer-Encoding: quoted-printable\r\n"))
        #expect(bodyLines.allSatisfy { $0.utf8.count <= 76 })
        #expect(raw.allSatisfy { $0 < 0x80 })
        #expect(MailParser.parse(raw).text == body)
    }
}
