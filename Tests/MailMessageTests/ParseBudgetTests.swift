import Testing

@testable import MailMessage

/// `MailParser.Options` limits: a mail over one is parsed to what fits and says so in its notes; nothing traps and
/// the mail is never dropped.
@Suite("parse budget")
struct ParseBudgetTests {
    /// A multipart/mixed message whose parts are the given raw parts (headers, blank line, body).
    static func mixed(_ parts: [String], boundary: String = "b") -> [UInt8] {
        var raw = "From: a@x.test\r\nSubject: parts\r\nContent-Type: multipart/mixed; boundary=\(boundary)\r\n\r\n"
        for part in parts { raw += "--\(boundary)\r\n" + part + "\r\n" }
        raw += "--\(boundary)--\r\n"
        return Array(raw.utf8)
    }

    static func textPart(_ text: String) -> String {
        "Content-Type: text/plain\r\n\r\n" + text
    }

    @Test("the defaults are far above real mail")
    func defaults() {
        let options = MailParser.Options()
        #expect(options.maxAttachmentBytes == 25 * 1024 * 1024)
        #expect(options.maxDepth == 32)
        #expect(options.maxParts == 1_000)
        #expect(options.maxHeaderLines == 50_000)
        #expect(options.maxHTMLBytes == 8 * 1024 * 1024)
    }

    @Test("20,000 MIME parts: the first 1,000 (the message itself counts) are read, and a note says so")
    func partsDefault() {
        let mail = MailParser.parse(Self.mixed((0..<20_000).map { Self.textPart("part \($0)") }))
        #expect(mail.text == (0..<999).map { "part \($0)" }.joined(separator: "\n\n"))
        #expect(mail.subject == "parts")
        #expect(
            mail.notes.filter { $0.hasPrefix("parse budget") } == [
                "parse budget: only the first 1000 MIME parts were read; the parts after them were skipped"
            ])
        #expect(!mail.notes.contains { $0.contains("final boundary") })
    }

    struct PartsFixture: Sendable, CustomTestStringConvertible {
        var maxParts: Int
        var expectedText: String
        var overBudget: Bool
        var testDescription: String { "maxParts \(maxParts)" }
    }

    // The message below: root (1), part a (2), the forwarded message (3) whose multipart (4) holds b (5) and c (6),
    // then part d (7).
    static let partsFixtures: [PartsFixture] = [
        PartsFixture(maxParts: 1, expectedText: "", overBudget: true),
        PartsFixture(maxParts: 2, expectedText: "a", overBudget: true),
        PartsFixture(maxParts: 5, expectedText: "a\n\n---------- Forwarded message ----------\n\nb", overBudget: true),
        PartsFixture(
            maxParts: 7, expectedText: "a\n\n---------- Forwarded message ----------\n\nb\n\nc\n\nd", overBudget: false),
    ]

    @Test("parts inside a forwarded message count against the same budget", arguments: partsFixtures)
    func partsShared(_ fixture: PartsFixture) {
        let forwarded =
            "Content-Type: message/rfc822\r\n\r\nContent-Type: multipart/mixed; boundary=in\r\n\r\n--in\r\n"
            + Self.textPart("b") + "\r\n--in\r\n" + Self.textPart("c") + "\r\n--in--"
        let raw = Self.mixed([Self.textPart("a"), forwarded, Self.textPart("d")])
        let mail = MailParser.parse(raw, options: MailParser.Options(maxParts: fixture.maxParts))
        #expect(mail.text == fixture.expectedText)
        #expect(
            mail.notes.contains { $0.hasPrefix("parse budget: only the first \(fixture.maxParts) MIME parts") }
                == fixture.overBudget)
        #expect(mail.from.first?.address == "a@x.test")
    }

    @Test("40 levels of multipart: parts below level 32 are kept undecoded as an attachment, with a note")
    func depth() {
        var raw = "From: a@x.test\r\n"
        for level in 0..<40 { raw += "Content-Type: multipart/mixed; boundary=d\(level)\r\n\r\n--d\(level)\r\n" }
        raw += "Content-Type: text/plain\r\n\r\ndeep\r\n"
        let mail = MailParser.parse(Array(raw.utf8))
        #expect(mail.text == "")
        #expect(mail.attachments.count == 1)
        #expect(mail.attachments.first?.contentType == "multipart/mixed")
        #expect(mail.attachments.first.map { String(decoding: $0.data, as: UTF8.self).hasSuffix("deep\r\n") } == true)
        #expect(
            mail.notes.contains {
                $0 == "parse budget: MIME nesting deeper than 32 levels; part kept undecoded as an attachment"
            })
    }

    @Test("60,000 header lines: the first 50,000 are kept, the body is still found, and a note says so")
    func headerLinesDefault() {
        let raw = Array(
            ("From: a@x.test\r\n" + String(repeating: "X-Filler: v\r\n", count: 60_000)
                + "Subject: late\r\n\r\nbody").utf8)
        let mail = MailParser.parse(raw)
        #expect(mail.headers.fields.count == 50_000)
        #expect(mail.from.first?.address == "a@x.test")
        #expect(mail.subject == nil)
        #expect(mail.text == "body")
        #expect(
            mail.notes == [
                "parse budget: only the first 50000 header lines were read; later header fields were skipped"
            ])
    }

    struct HeaderFixture: Sendable, CustomTestStringConvertible {
        var maxHeaderLines: Int
        var subject: String?
        /// The text, when the top-level Content-Type was kept (else the whole body is read as text).
        var partText: String?
        var testDescription: String { "maxHeaderLines \(maxHeaderLines)" }
    }

    // Lines: From (1), Subject (2) with two continuation lines (3, 4), Content-Type (5), then the part's header (6).
    static let headerFixtures: [HeaderFixture] = [
        HeaderFixture(maxHeaderLines: 1, subject: nil, partText: nil),
        HeaderFixture(maxHeaderLines: 3, subject: "one two", partText: nil),
        HeaderFixture(maxHeaderLines: 5, subject: "one two three", partText: "body"),
        HeaderFixture(maxHeaderLines: 6, subject: "one two three", partText: "body"),
    ]

    @Test("continuation lines and part headers count as header lines", arguments: headerFixtures)
    func headerLines(_ fixture: HeaderFixture) {
        let raw = Array(
            ("From: a@x.test\r\nSubject: one\r\n two\r\n three\r\nContent-Type: multipart/mixed; boundary=h\r\n\r\n"
                + "--h\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n--h--\r\n").utf8)
        let mail = MailParser.parse(raw, options: MailParser.Options(maxHeaderLines: fixture.maxHeaderLines))
        #expect(mail.subject == fixture.subject)
        #expect(mail.from.first?.address == "a@x.test")
        #expect(
            mail.notes.contains { $0.hasPrefix("parse budget: only the first \(fixture.maxHeaderLines) header lines") }
                == (fixture.maxHeaderLines < 6))
        if let partText = fixture.partText { #expect(mail.text == partText) }
    }

    @Test("HTML over the budget: the start is converted, cut at a character, for text and reply alike")
    func htmlBytes() {
        let paragraph = "<p>日本語 \(String(repeating: "x", count: 10))</p>"
        let html = String(repeating: paragraph, count: 1_000)
        let raw = Array(("From: a@x.test\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html).utf8)
        let limit = paragraph.utf8.count * 3 + 5  // three paragraphs and two bytes of "日"
        let mail = MailParser.parse(raw, options: MailParser.Options(maxHTMLBytes: limit))
        #expect(mail.text == Array(repeating: "日本語 xxxxxxxxxx", count: 3).joined(separator: "\n\n"))
        #expect(mail.replyText == mail.text)
        #expect(!mail.text.contains("\u{FFFD}"))
        #expect(
            mail.notes == [
                "parse budget: only the first \(limit) bytes of HTML were converted to text; the rest of the HTML was not read"
            ])
        let whole = MailParser.parse(raw)
        #expect(whole.text.split(separator: "\n\n").count == 1_000)
        #expect(whole.notes.isEmpty)
    }

    @Test("the HTML budget is for the whole message: a second HTML part gets what the first left")
    func htmlBytesShared() {
        let raw = Self.mixed([
            "Content-Type: text/html\r\n\r\n<p>first</p>", "Content-Type: text/html\r\n\r\n<p>second part</p>",
        ])
        let mail = MailParser.parse(raw, options: MailParser.Options(maxHTMLBytes: 12 + 9))
        #expect(mail.text == "first\n\nsecond")
        #expect(mail.notes.contains { $0.hasPrefix("parse budget: only the first 21 bytes of HTML") })
    }

    @Test("a mail over every limit at once is still read: sender, subject, what fits, one note per limit")
    func everyLimit() {
        let nested = "Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n" + Self.textPart("inner") + "\r\n--z--"
        let parts = [nested] + (0..<50).map { "Content-Type: text/html\r\nX-Extra: \($0)\r\n\r\n<p>html \($0)</p>" }
        let options = MailParser.Options(maxDepth: 1, maxParts: 40, maxHeaderLines: 50, maxHTMLBytes: 50)
        let mail = MailParser.parse(Self.mixed(parts), options: options)
        #expect(mail.from.first?.address == "a@x.test")
        #expect(mail.subject == "parts")
        #expect(mail.text.hasPrefix("html 0\n\nhtml 1"))
        let budgetNotes = mail.notes.filter { $0.hasPrefix("parse budget") }
        #expect(budgetNotes.count == 4)
        #expect(budgetNotes.contains { $0.contains("nesting deeper than 1") })
        #expect(budgetNotes.contains { $0.contains("MIME parts") })
        #expect(budgetNotes.contains { $0.contains("header lines") })
        #expect(budgetNotes.contains { $0.contains("bytes of HTML") })
    }
}
