import MailMessage
import Testing

@Suite("MIME structure")
struct MIMEStructureTests {
    @Test("multipart/related uses the part named by start as the root (RFC 2387)")
    func relatedStart() {
        let mail = MailParser.parse(
            message([
                "From: a@x.test", "Content-Type: multipart/related; boundary=r; start=\"<root@x>\"", "", "--r",
                "Content-Type: image/gif", "Content-ID: <img@x>", "Content-Transfer-Encoding: base64", "", "R0lGODlh",
                "--r", "Content-Type: text/html", "Content-ID: <root@x>", "", "<p>Root body</p>", "--r--",
            ]))
        #expect(mail.text == "Root body")
        #expect(mail.attachments.map(\.contentID) == ["img@x"])
        #expect(mail.attachments.first?.isInline == true)
    }

    @Test("multipart/signed keeps the signed content as body and the signature as an attachment (RFC 1847)")
    func signed() {
        let mail = MailParser.parse(
            message([
                "From: a@x.test",
                "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=s", "", "--s",
                "Content-Type: text/plain", "", "signed text", "--s", "Content-Type: application/pgp-signature", "",
                "-----BEGIN PGP SIGNATURE-----", "--s--",
            ]))
        #expect(mail.text == "signed text")
        #expect(mail.attachments.map(\.filename) == ["attachment.asc"])
    }

    @Test("a bounce keeps its human-readable part as text; status and returned message are attachments")
    func report() {
        let mail = MailParser.parse(
            message([
                "From: MAILER-DAEMON@x.test", "Return-Path: <>",
                "Content-Type: multipart/report; report-type=delivery-status; boundary=r", "", "--r",
                "Content-Type: text/plain", "", "Delivery failed.", "--r", "Content-Type: message/delivery-status", "",
                "Status: 5.1.1", "--r", "Content-Type: message/rfc822", "", "From: help@desk.test", "Subject: x", "",
                "original", "--r--",
            ]))
        #expect(mail.text == "Delivery failed.")
        #expect(mail.attachments.map(\.contentType) == ["message/delivery-status", "message/rfc822"])
        #expect(AutoReplyClassifier.classify(mail).header == "Content-Type")
    }

    @Test("a forward of a forward nests message/rfc822 twice")
    func forwardOfForward() {
        let mail = MailParser.parse(
            message([
                "From: a@x.test", "Content-Type: multipart/mixed; boundary=o", "", "--o", "", "outer", "--o",
                "Content-Type: message/rfc822", "", "From: b@y.test", "Subject: middle",
                "Content-Type: multipart/mixed; boundary=m", "", "--m", "", "middle text", "--m",
                "Content-Type: message/rfc822", "", "From: c@z.test", "Subject: inner", "", "inner text", "--m--",
                "--o--",
            ]))
        #expect(mail.text.contains("outer"))
        #expect(mail.text.contains("middle text"))
        #expect(mail.text.contains("inner text"))
    }

    @Test("the nesting limit is configurable")
    func depthOption() {
        let raw = message([
            "From: a@x.test", "Content-Type: multipart/mixed; boundary=a", "", "--a",
            "Content-Type: multipart/mixed; boundary=b", "", "--b", "", "deep", "--b--", "--a--",
        ])
        #expect(MailParser.parse(raw).text == "deep")
        let limited = MailParser.parse(raw, options: MailParser.Options(maxDepth: 1))
        #expect(limited.text == "")
        #expect(limited.attachments.count == 1)
        #expect(limited.notes.contains { $0.contains("deeper than 1") })
    }

    @Test("boundaries must match a whole delimiter line, also when one boundary prefixes another")
    func boundaryPrefix() {
        let mail = MailParser.parse(
            message([
                "From: a@x.test", "Content-Type: multipart/mixed; boundary=b", "", "--b",
                "Content-Type: multipart/alternative; boundary=bb", "", "--bb", "", "plain", "--bb",
                "Content-Type: text/html", "", "<p>html</p>", "--bb--", "--b  ", "Content-Type: text/plain; name=n.txt",
                "",
                "file", "--b--",
            ]))
        #expect(mail.text == "plain")
        #expect(mail.attachments.map(\.filename) == ["n.txt"])
    }
}
