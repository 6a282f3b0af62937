import Foundation
import MailMessage
import Testing

@Suite("MailInspector")
struct MailInspectorTests {
    @Test("an inspection reports addresses, summary, reply text, attachments and the verdict, and encodes as JSON")
    func inspects() throws {
        let raw = Array(
            [
                "From: Alice <alice@x.test>", "To: help@desk.test", "Subject: Re: Printer",
                "Auto-Submitted: auto-replied",
                "Content-Type: multipart/mixed; boundary=m", "", "--m", "", "Thanks\n\n> old", "--m",
                "Content-Type: application/pdf; name=a.pdf", "", "1234", "--m--",
            ].joined(separator: "\r\n").utf8)
        let inspection = MailInspector.inspect(raw)
        #expect(inspection.from == ["Alice <alice@x.test>"])
        #expect(inspection.summary == "Printer")
        #expect(inspection.replyText == "Thanks")
        #expect(inspection.attachments == [.init(filename: "a.pdf", contentType: "application/pdf", size: 4)])
        #expect(inspection.verdict.header == "Auto-Submitted")
        let json = try JSONEncoder().encode(inspection)
        #expect(try JSONDecoder().decode(MailInspection.self, from: json) == inspection)
        #expect(inspection.renderText().contains("a.pdf"))
    }
}
