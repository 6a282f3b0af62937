import Foundation
import Testing

@testable import MailMessage

/// Builds a message from lines joined with CRLF.
func message(_ lines: [String]) -> [UInt8] {
    Array(lines.joined(separator: "\r\n").utf8)
}

@Suite("MailParser")
struct MailParserTests {
    @Test("headers are unfolded, ordered and looked up case-insensitively")
    func headers() {
        let mail = MailParser.parse(
            message([
                "From: Alice <alice@Example.com>", "Subject: a long", "\tsubject", "X-Twice: 1", "x-twice: 2",
                "Message-ID: <abc@x.test>", "In-Reply-To: <p1@x.test>", "References: <p0@x.test>", " <p1@x.test>",
                "Return-Path: <>", "Date: Thu, 13 Feb 1969 23:32:54 -0330", "", "body",
            ]))
        #expect(mail.headers["subject"] == "a long\tsubject")
        #expect(mail.headers.all("X-TWICE") == ["1", "2"])
        #expect(mail.from == [MailAddress(name: "Alice", address: "alice@example.com")])
        #expect(mail.messageID == "abc@x.test")
        #expect(mail.inReplyTo == ["p1@x.test"])
        #expect(mail.references == ["p0@x.test", "p1@x.test"])
        #expect(mail.returnPath == "")
        #expect(mail.date == Date(timeIntervalSince1970: -27_723_426))
        #expect(mail.text == "body")
    }

    struct DateFixture: Sendable, CustomTestStringConvertible {
        var header: String
        var epoch: Double?
        var testDescription: String { header }
    }

    static let dates: [DateFixture] = [
        DateFixture(header: "Fri, 20 Nov 2026 10:15:00 +0000", epoch: 1_795_169_700),
        DateFixture(header: "20 Nov 2026 10:15 +0000", epoch: 1_795_169_700),
        DateFixture(header: "Fri, 20 Nov 2026 19:15:00 +0900 (JST)", epoch: 1_795_169_700),
        DateFixture(header: "Fri, 20 Nov 26 05:15:00 EST", epoch: 1_795_169_700),
        DateFixture(header: "garbage", epoch: nil),
        DateFixture(header: "Fri, 20 Nov 999999999999999999 10:15:00 +0000", epoch: nil),
        DateFixture(header: "Fri, 20 Nov 2026 99:15:00 +0000", epoch: nil),
        DateFixture(header: "Fri, 20 Nov 2026 10:15:999999999999999999999 +0000", epoch: 1_795_169_700),
    ]

    @Test("RFC 5322 dates parse, including obsolete zones and two-digit years", arguments: dates)
    func parsesDates(_ fixture: DateFixture) {
        #expect(MailDate.parse(fixture.header)?.timeIntervalSince1970 == fixture.epoch)
    }

    @Test("dates format as RFC 5322 date-time in UTC")
    func formatsDates() {
        #expect(MailDate.format(Date(timeIntervalSince1970: 1_795_169_700)) == "Fri, 20 Nov 2026 10:15:00 +0000")
        #expect(MailDate.format(Date(timeIntervalSince1970: 0)) == "Thu, 1 Jan 1970 00:00:00 +0000")
        #expect(MailDate.format(Date(timeIntervalSince1970: .infinity)) == "Thu, 1 Jan 1970 00:00:00 +0000")
        #expect(MailDate.format(.distantFuture).hasSuffix("+0000"))
    }

    @Test("multipart/alternative prefers text/plain and keeps HTML images as inline attachments")
    func alternative() {
        let mail = MailParser.parse(
            message([
                "From: a@x.test", "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=",
                "Content-Type: multipart/alternative; boundary=\"b1\"", "",
                "preamble", "--b1", "Content-Type: text/plain; charset=iso-8859-1",
                "Content-Transfer-Encoding: quoted-printable", "",
                "Gr=FC=DFe", "--b1", "Content-Type: multipart/related; boundary=b2", "",
                "--b2", "Content-Type: text/html", "", "<p>Gr&uuml;&szlig;e</p><img src=\"cid:img1\">",
                "--b2", "Content-Type: image/png", "Content-ID: <img1>", "Content-Transfer-Encoding: base64", "",
                "iVBORw0KGgo=",
                "--b2--", "--b1--", "epilogue",
            ]))
        #expect(mail.subject == "Grüße")
        #expect(mail.text == "Grüße")
        #expect(mail.attachments.count == 1)
        #expect(mail.attachments.first?.contentID == "img1")
        #expect(mail.attachments.first?.isInline == true)
        #expect(mail.attachments.first?.filename == "attachment.png")
        #expect(mail.attachments.first?.data == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    @Test("HTML-only mail becomes readable text")
    func htmlOnly() {
        let mail = MailParser.parse(
            message([
                "From: a@x.test", "Content-Type: text/html; charset=utf-8", "",
                "<html><head><style>p{}</style></head><body><p>Hello &amp; welcome</p><ul><li>one</li><li>two</li></ul>",
                "<p>See <a href=\"https://x.test/\">the site</a>.</p></body></html>",
            ]))
        #expect(mail.text == "Hello & welcome\n\n- one\n- two\n\nSee the site <https://x.test/>.")
    }

    @Test("RFC 2231 filenames with continuations and charsets are decoded and sanitised")
    func filenames() {
        let mail = MailParser.parse(
            message([
                "From: a@x.test", "Content-Type: multipart/mixed; boundary=m", "", "--m", "Content-Type: text/plain",
                "", "see attached",
                "--m", "Content-Type: application/pdf",
                "Content-Disposition: attachment; filename*0*=utf-8''%E8%AB%8B%E6%B1%82; filename*1=\"../x/書.pdf\"",
                "Content-Transfer-Encoding: base64", "", "JVBERg==",
                "--m", "Content-Type: application/octet-stream; name=\"C:\\\\Users\\\\x\\\\report.txt\"", "", "data",
                "--m--",
            ]))
        #expect(mail.text == "see attached")
        #expect(mail.attachments.map(\.filename) == ["書.pdf", "report.txt"])
        #expect(mail.attachments.first?.data == Array("%PDF".utf8))
    }

    @Test("a missing final boundary keeps the parts and is noted")
    func missingFinalBoundary() {
        let mail = MailParser.parse(
            message([
                "From: a@x.test", "Content-Type: multipart/mixed; boundary=m", "", "--m", "", "first", "--m",
                "Content-Type: text/plain; name=a.txt", "", "file",
            ]))
        #expect(mail.text == "first")
        #expect(mail.attachments.map(\.filename) == ["a.txt"])
        #expect(mail.notes.contains { $0.contains("final boundary") })
    }

    @Test("attachments over the per-message limit are dropped with a note naming them")
    func attachmentLimit() {
        let mail = MailParser.parse(
            message([
                "From: a@x.test", "Content-Type: multipart/mixed; boundary=m", "", "--m", "", "hi",
                "--m", "Content-Type: application/octet-stream; name=big.bin", "", String(repeating: "x", count: 100),
                "--m", "Content-Type: application/octet-stream; name=small.bin", "", "xx", "--m--",
            ]), options: MailParser.Options(maxAttachmentBytes: 50))
        #expect(mail.attachments.map(\.filename) == ["small.bin"])
        #expect(mail.notes.contains { $0.contains("big.bin") && $0.contains("dropped") })
    }

    @Test("nesting deeper than the limit stops without crashing")
    func deepNesting() {
        var lines = ["From: a@x.test"]
        for level in 0..<200 {
            lines += ["Content-Type: multipart/mixed; boundary=b\(level)", "", "--b\(level)"]
        }
        lines += ["", "deep"]
        let mail = MailParser.parse(message(lines))
        #expect(mail.notes.contains { $0.contains("deeper than 32") })
    }

    @Test("an inline forwarded message/rfc822 adds its text; an attached one becomes an .eml attachment")
    func forwarded() {
        let inner = ["From: Bob <bob@y.test>", "Subject: Original", "", "inner text"]
        let inline = MailParser.parse(
            message(
                [
                    "From: a@x.test", "Content-Type: multipart/mixed; boundary=m", "", "--m", "", "see below", "--m",
                    "Content-Type: message/rfc822", "",
                ] + inner + ["--m--"]))
        #expect(inline.text.contains("see below"))
        #expect(inline.text.contains("inner text"))
        let attached = MailParser.parse(
            message(
                [
                    "From: a@x.test", "Content-Type: multipart/mixed; boundary=m", "", "--m", "", "see attached", "--m",
                    "Content-Type: message/rfc822", "Content-Disposition: attachment", "",
                ] + inner + ["--m--"]))
        #expect(attached.text == "see attached")
        #expect(attached.attachments.map(\.filename) == ["Original.eml"])
        #expect(attached.attachments.first?.contentType == "message/rfc822")
    }

    @Test("format=flowed text is unwrapped")
    func flowed() {
        let mail = MailParser.parse(
            message([
                "From: a@x.test", "Content-Type: text/plain; charset=utf-8; format=flowed", "", "This is a ",
                "flowed line.",
                "", "-- ", "sig",
            ]))
        #expect(mail.text == "This is a flowed line.\n\n-- \nsig")
    }

    @Test("a header section without its empty line keeps the body; a stray line between fields is skipped")
    func missingBlankLine() {
        let mail = MailParser.parse(message(["From: a@x.test", "Subject: hi", "Hello there", "second line"]))
        #expect(mail.subject == "hi")
        #expect(mail.text == "Hello there\nsecond line")
        let stray = MailParser.parse(message(["From: a@x.test", "garbage line", "Subject: hi", "", "body"]))
        #expect(stray.subject == "hi")
        #expect(stray.text == "body")
        let headless = MailParser.parse(message(["just text", "more"]))
        #expect(headless.text == "just text\nmore")
    }

    @Test("an HTML reply keeps the answer and drops the Apple Mail quote with its attribution")
    func appleReply() {
        let mail = MailParser.parse(
            message([
                "From: a@x.test", "Content-Type: text/html; charset=utf-8", "",
                "<div>Works now, thanks.</div><div><br><blockquote type=\"cite\"><div>On 20 Nov 2026, at 10:15, Desk &lt;help@desk.test&gt; wrote:</div><br><div>old text</div></blockquote></div>",
            ]))
        #expect(mail.replyText == "Works now, thanks.")
        let attribution = MailParser.parse(
            message([
                "From: a@x.test", "Content-Type: text/html; charset=utf-8", "",
                "<div>Works now.</div><div><br></div><div>On 20 Nov 2026, at 10:15, Desk &lt;help@desk.test&gt; wrote:<br></div><blockquote type=\"cite\">old</blockquote>",
            ]))
        #expect(attribution.replyText == "Works now.")
    }

    @Test("raw ISO-2022-JP and Shift_JIS bytes in headers are detected")
    func rawJapaneseHeaders() {
        var raw = Array("From: a@x.test\r\nSubject: ".utf8) + [0x1B, 0x24, 0x42, 0x24, 0x22, 0x1B, 0x28, 0x42]
        raw +=
            Array("\r\nX-SJIS: ".utf8) + [0x82, 0xA0, 0x82, 0xA2, 0x82, 0xA4, 0x82, 0xA6] + Array("\r\n\r\nbody".utf8)
        let mail = MailParser.parse(raw)
        #expect(mail.subject == "あ")
        #expect(mail.headers["X-SJIS"] == "あいうえ")
    }

    @Test("bare CR line ends are read as line ends")
    func bareCR() {
        let mail = MailParser.parse(Array("From: a@x.test\rSubject: old mac\r\rline one\rline two".utf8))
        #expect(mail.subject == "old mac")
        #expect(mail.text == "line one\nline two")
    }

    @Test("raw UTF-8 headers are read as UTF-8 (RFC 6532)")
    func rawUTF8Headers() {
        let mail = MailParser.parse(message(["From: 山田 <taro@例え.jp>", "Subject: 件名です", "", "本文"]))
        #expect(mail.subject == "件名です")
        #expect(mail.from.first?.name == "山田")
        #expect(mail.from.first?.address == "taro@例え.jp")
        #expect(mail.text == "本文")
    }

    @Test(
        "garbage input never traps",
        arguments: [
            [UInt8](), [0x00], Array("\r\n\r\n".utf8), Array(repeating: 0xFF, count: 100),
            Array("Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n".utf8),
            Array("Subject: =?\r\n\r\n=".utf8),
            Array("Content-Type: text/plain; charset=\"\r\nContent-Transfer-Encoding: base64\r\n\r\n====".utf8),
        ])
    func garbage(_ raw: [UInt8]) {
        // Whatever the bytes, the mail is read into something a request can be made of.
        let inspection = MailInspector.inspect(raw)
        #expect(!inspection.summary.isEmpty)
        #expect(!inspection.renderText().isEmpty)
        #expect(MailParser.parse(raw).text == inspection.text)
    }
}
