import Foundation
import Testing

@testable import MailMessage

/// Text with an HTML alternative: multipart/alternative, text first and HTML last (RFC 2046 §5.1.4), each part UTF-8
/// quoted-printable, and a boundary that no content can forge.
@Suite("MailComposer, multipart/alternative")
struct MailComposerAlternativeTests {
    static func mail(text: String, html: String?) -> OutgoingMail {
        OutgoingMail(
            from: MailAddress(name: "Support Desk", address: "help@desk.test"),
            to: [MailAddress(address: "alice@x.test")], subject: "[SD-1] Printer", text: text, html: html,
            messageID: "postdesk.1@desk.test", date: Date(timeIntervalSince1970: 1_795_169_700))
    }

    /// The parts of a composed multipart: each part's header block and its decoded content.
    static func parts(_ raw: [UInt8]) throws -> (boundary: String, parts: [(headers: String, content: String)]) {
        let message = String(decoding: raw, as: UTF8.self)
        let end = try #require(message.range(of: "\r\n\r\n"))
        // Unfolded (RFC 5322 §2.2.3), the header lines each in one piece.
        let head = message[..<end.lowerBound].replacingOccurrences(of: "\r\n ", with: " ")
        let type = try #require(head.components(separatedBy: "\r\n").first { $0.hasPrefix("Content-Type:") })
        let boundary = try #require(type.components(separatedBy: "boundary=\"").last?.dropLast())
        #expect(message[..<end.lowerBound].components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        let body = String(message[end.upperBound...])
        var sections = body.components(separatedBy: "--\(boundary)")
        #expect(sections.first == "", "the body starts with the first delimiter")
        #expect(sections.last == "--\r\n", "the body ends with the close delimiter")
        sections = Array(sections.dropFirst().dropLast())
        let parts = try sections.map { section in
            // "\r\n" is one Character.
            let trimmed = section.hasPrefix("\r\n") ? String(section.dropFirst()) : section
            let split = try #require(trimmed.range(of: "\r\n\r\n"))
            let encoded = String(trimmed[split.upperBound...])
            let decoded = TransferEncoding.decodeQuotedPrintable(Array(encoded.utf8))
            #expect(decoded.problems == 0)
            return (String(trimmed[..<split.lowerBound]), String(decoding: decoded.bytes, as: UTF8.self))
        }
        return (String(boundary), parts)
    }

    @Test("text then HTML, each UTF-8 quoted-printable; a reader takes the text")
    func layout() throws {
        let text = "こんにちは\n= not a soft break =\nline with trailing space "
        let html = "<p>こんにちは</p>\n<p>=_postdesk_ and --=_ cannot close the part</p>"
        let raw = MailComposer.compose(Self.mail(text: text, html: html))
        let (boundary, parts) = try Self.parts(raw)
        #expect(boundary.hasPrefix("=_postdesk_"))
        #expect(parts.count == 2)
        #expect(parts[0].headers.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(parts[1].headers.contains("Content-Type: text/html; charset=utf-8"))
        #expect(parts.allSatisfy { $0.headers.contains("Content-Transfer-Encoding: quoted-printable") })
        #expect(parts[0].content == text.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n")
        #expect(parts[1].content == html.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n")
        let parsed = MailParser.parse(raw)
        #expect(parsed.text == text.trimmingCharacters(in: .whitespaces))
        #expect(parsed.attachments.isEmpty)
        #expect(!parsed.notes.contains { $0.contains("malformed") })
    }

    @Test(
        "content that spells the boundary line cannot end its part",
        arguments: [
            "--=_postdesk_0", "=_postdesk_", "--=_postdesk_abc--", "==_==",
        ])
    func forgedBoundary(_ hostile: String) throws {
        let raw = MailComposer.compose(Self.mail(text: hostile, html: "<p>\(hostile)</p>"))
        let (boundary, parts) = try Self.parts(raw)
        #expect(parts.count == 2)
        #expect(parts[0].content == hostile + "\r\n")
        let lines = String(decoding: raw, as: UTF8.self).components(separatedBy: "\r\n")
        #expect(lines.filter { $0.hasPrefix("--\(boundary)") }.count == 3, "two delimiters and the close, no more")
    }

    @Test("without HTML the mail stays one text/plain part")
    func textOnly() {
        let message = String(decoding: MailComposer.compose(Self.mail(text: "Hello", html: nil)), as: UTF8.self)
        #expect(message.contains("Content-Type: text/plain; charset=utf-8\r\n"))
        #expect(!message.contains("multipart"))
        #expect(message.hasSuffix("\r\n\r\nHello\r\n"))
    }
}
