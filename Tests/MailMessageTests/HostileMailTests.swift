import Testing

@testable import MailMessage

/// Shapes of mail that made a routine superlinear, each large enough that the old pass would not finish in a test
/// run. They check what is read, not how fast: the timing targets are in Benchmarks/.
@Suite("hostile mail shapes")
struct HostileMailTests {
    static func repeated(_ text: String, _ count: Int) -> String {
        String(repeating: text, count: count)
    }

    @Test("a format=flowed paragraph of 200,000 soft-broken lines is one line")
    func longFlowedParagraph() {
        let raw = Array(
            ("From: a@x.test\r\nContent-Type: text/plain; format=flowed\r\n\r\n" + Self.repeated("ab \r\n", 200_000)
                + "end").utf8)
        #expect(MailParser.parse(raw).text == Self.repeated("ab ", 200_000) + "end")
    }

    @Test("a subject of 100,000 encoded words decodes whole")
    func manyEncodedWords() {
        let raw = Array(
            ("Subject: " + Self.repeated("=?utf-8?q?a=C3=A4?= ", 100_000) + "\r\n\r\nbody").utf8)
        #expect(MailParser.parse(raw).subject == Self.repeated("aä", 100_000))
    }

    @Test("a subject of 40,000 encoded words on continuation lines decodes whole")
    func foldedEncodedWords() {
        let raw = Array(
            ("Subject: " + Self.repeated("=?utf-8?q?a=C3=A4?=\r\n ", 40_000) + "x\r\n\r\nbody").utf8)
        #expect(MailParser.parse(raw).subject == Self.repeated("aä", 40_000) + " x")
    }

    @Test("100,000 starts of encoded words that never end stay as written")
    func unterminatedEncodedWords() {
        let value = Self.repeated("=?x?q?a", 100_000)
        var notes: [String] = []
        #expect(EncodedWord.decode(value, notes: &notes) == value)
        #expect(notes.isEmpty)
    }

    @Test("a subject on 40,000 continuation lines unfolds whole")
    func continuationLines() {
        let raw = Array(("Subject: a\r\n" + Self.repeated(" b\r\n", 40_000) + "\r\nbody").utf8)
        let mail = MailParser.parse(raw)
        #expect(mail.subject == "a" + Self.repeated(" b", 40_000))
        #expect(mail.text == "body")
    }

    @Test("40,000 header fields are all kept and the body is found")
    func manyHeaderFields() {
        let raw = Array(
            ((0..<40_000).map { "X-Filler-\($0): v\($0)\r\n" }.joined() + "Subject: last\r\n\r\nbody").utf8)
        let mail = MailParser.parse(raw)
        #expect(mail.headers.fields.count == 40_001)
        #expect(mail.headers["x-filler-39999"] == "v39999")
        #expect(mail.subject == "last")
        #expect(mail.text == "body")
        #expect(!mail.notes.contains { $0.hasPrefix("parse budget") })
    }

    @Test("a To of 100,000 addresses keeps them all, in order")
    func manyAddresses() {
        let list = (0..<100_000).map { "u\($0)@x.test" }
        let addresses = MailAddress.parseList(list.joined(separator: ", "))
        #expect(addresses.map(\.address) == list)
    }

    @Test("100,000 colons after an address in one mailbox: one mailbox, its name the words before")
    func manyColons() {
        let value = Self.repeated("a ", 50_000) + "<x@y.test> " + Self.repeated(": ", 100_000)
        let addresses = MailAddress.parseList(value)
        #expect(
            addresses == [
                MailAddress(name: Array(repeating: "a", count: 50_000).joined(separator: " "), address: "x@y.test")
            ])
    }

    @Test("100,000 reply prefixes are all removed from the summary")
    func manyReplyPrefixes() {
        #expect(SubjectNormalizer.summary(from: Self.repeated("Re: ", 100_000) + "Printer") == "Printer")
        #expect(SubjectNormalizer.summary(from: Self.repeated("Re: AW: ", 50_000)) == "(no subject)")
    }

    @Test("200,000 quoted lines leave no reply; 100,000 header-like lines are kept")
    func quoteStripperShapes() {
        #expect(QuoteStripper.strip(Self.repeated("> quoted\n", 200_000)) == "")
        let fromLines = Self.repeated("From: a@b.test\n", 100_000)
        #expect(QuoteStripper.strip(fromLines) == String(fromLines.dropLast()))
    }

    @Test("50,000 answers between attributions and quotes are kept, the rest removed")
    func manyAttributions() {
        let text = Self.repeated("ok\nOn Monday Bob <b@x.test> wrote:\n> old\n", 50_000)
        #expect(QuoteStripper.strip(text) == Array(repeating: "ok", count: 50_000).joined(separator: "\n"))
    }

    @Test("text ten alternatives deep is found (ranking stops looking inside after four levels, never drops it)")
    func deepAlternatives() {
        var raw = "From: a@x.test\r\n"
        for level in 0..<10 {
            raw += "Content-Type: multipart/alternative; boundary=b\(level)\r\n\r\n--b\(level)\r\n"
        }
        raw += "Content-Type: text/plain\r\n\r\ndeep text\r\n"
        for level in (0..<10).reversed() { raw += "--b\(level)--\r\n" }
        #expect(MailParser.parse(Array(raw.utf8)).text == "deep text")
    }

    @Test("30 nested inline forwarded messages around 1 MB of text: every header block, the text once")
    func deepForwardedMessages() {
        var raw = "From: a@x.test\r\nSubject: outer\r\n"
        for level in 0..<30 {
            raw += "Content-Type: message/rfc822\r\n\r\nFrom: f\(level)@x.test\r\nSubject: s\(level)\r\n"
        }
        let body = Self.repeated("x", 1_000_000)
        raw += "\r\n" + body + "\r\n"
        let mail = MailParser.parse(Array(raw.utf8))
        let blocks = (0..<30).map {
            "---------- Forwarded message ----------\nFrom: f\($0)@x.test\nSubject: s\($0)"
        }
        #expect(mail.text == (blocks + [body]).joined(separator: "\n\n"))
        #expect(mail.notes.isEmpty)
    }
}
