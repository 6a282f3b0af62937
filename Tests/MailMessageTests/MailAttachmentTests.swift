import MailMessage
import Testing

@Suite("attachment file names")
struct MailAttachmentTests {
    static let fixtures: [(raw: String, contentType: String, expected: String)] = [
        ("report.pdf", "application/pdf", "report.pdf"),
        ("../../etc/passwd", "text/plain", "passwd"),
        ("C:\\Users\\x\\report.pdf", "application/pdf", "report.pdf"),
        ("in\r\nvoice\u{07}.pdf", "application/pdf", "invoice.pdf"),
        ("photo\u{202E}gpj.exe", "image/jpeg", "photogpj.exe"),
        ("", "image/png", "attachment.png"),
        ("   ", "application/x-unknown", "attachment.bin"),
        ("..", "application/pdf", "attachment.pdf"),
        ("dir/", "text/plain", "attachment.txt"),
        (".hidden", "text/plain", "hidden"),
        ("日本語の資料.xlsx", "application/vnd.ms-excel", "日本語の資料.xlsx"),
        (String(repeating: "a", count: 300) + ".pdf", "application/pdf", String(repeating: "a", count: 196) + ".pdf"),
    ]

    @Test("file names lose path parts and control characters and are never empty", arguments: fixtures)
    func sanitises(_ fixture: (raw: String, contentType: String, expected: String)) {
        #expect(MailAttachment.sanitizedFilename(fixture.raw, contentType: fixture.contentType) == fixture.expected)
    }
}
