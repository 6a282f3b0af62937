import Foundation
import MailMessage
import MailServerHarness
import Testing

/// `postdesk notification` through the real binary, with real Dovecot and OpenSMTPD: the acknowledgement of a new
/// request turned on reaches the customer as text and HTML, a project's own comment template is what the customer
/// reads, a broken template is refused with the parser's words, and reset brings the built-in one back.
@Suite("Notification templates, end to end", .serialized, .timeLimit(.minutes(2)))
struct NotificationCommandTests {
    @Test("received on, a custom comment template, a broken one refused, reset")
    func templates() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "help-\(tag)@desk.test"
        let alice = "alice-\(tag)@customer.test"
        for user in [help, alice] { try servers.addUser(user, password: "secret") }
        let desk = try PostdeskProcess()
        try await desk.start()
        let directory = desk.dataDirectory
        let passwordFile = directory.appendingPathComponent("pw.txt")
        try "secret\n".write(to: passwordFile, atomically: true, encoding: .utf8)
        try desk.createProject("SD", name: "Service Desk", signup: "public", requestType: "Get help")
        try desk.ok([
            "smtp", "set", "--host", "127.0.0.1", "--port", "\(servers.smtpPort)", "--tls", "none", "--from", help,
        ])
        try desk.ok([
            "channel", "add", "SD", "--address", help, "--protocol", "imap", "--host", "127.0.0.1", "--port",
            "\(servers.imapPort)", "--tls", "none", "--username", help, "--password-file", passwordFile.path,
            "--request-type", "Get help",
        ])

        #expect(try desk.ok(["notification", "show", "SD"]).contains("not acknowledged"))
        #expect(try desk.ok(["notification", "received", "SD", "on"]).contains("acknowledged by mail"))
        let text = directory.appendingPathComponent("comment.txt")
        try "Dear {{customer.address}},\n{{comment.body}}\nYours, {{project.name}}\n".write(
            to: text, atomically: true, encoding: .utf8)
        let html = directory.appendingPathComponent("comment.html")
        try "<p class=\"custom\">{{comment.body}}</p>".write(to: html, atomically: true, encoding: .utf8)
        let saved = try desk.ok([
            "notification", "set", "SD", "comment", "en", "--text-file", text.path, "--html-file", html.path,
            "--subject", "Update: {{request.summary}}",
        ])
        #expect(saved.contains("Subject: [SD-1] Update: Printer"), "\(saved)")
        let broken = directory.appendingPathComponent("broken.txt")
        try "{{#comment}} never closed".write(to: broken, atomically: true, encoding: .utf8)
        let refused = try desk.run(["notification", "set", "SD", "resolved", "en", "--text-file", broken.path])
        #expect(refused.status != 0)
        #expect(refused.err.contains("does not parse"), "\(refused.err)")
        let unknown = try desk.run(["notification", "reset", "SD", "welcome", "en"])
        #expect(unknown.status != 0)
        #expect(unknown.err.contains("received, comment, resolved") || unknown.err.contains("welcome"))

        try await servers.send(
            FourStepLoopTests.mail(
                from: alice, to: help, subject: "Printer jammed", body: "Error E42.",
                messageID: "first-\(tag)@customer.test"), from: alice, to: help)
        let acks = try await servers.waitForMessages(1, in: alice, timeout: .seconds(30))
        let ack = MailParser.parse(Array(try #require(acks.first?.raw).utf8))
        #expect(ack.subject == "[SD-1] Printer jammed")
        #expect(ack.text.contains("We have received your request SD-1."), "\(ack.text)")
        #expect(acks.first?.raw.contains("multipart/alternative") == true)
        #expect(acks.first?.raw.contains("Content-Type: text/html; charset=utf-8") == true)

        try desk.ok(["request", "comment", "SD-1", "--author", "agent@desk.test", "--body", "Replace the <toner>."])
        let mails = try await servers.waitForMessages(2, in: alice, timeout: .seconds(30))
        let comment = try #require(mails.first { $0.raw.contains("Update: Printer jammed") })
        let parsed = MailParser.parse(Array(comment.raw.utf8))
        #expect(parsed.text.contains("Dear \(alice),\nReplace the <toner>.\nYours, Service Desk"), "\(parsed.text)")
        #expect(comment.raw.contains("class=3D\"custom\">Replace the &lt;toner&gt;.</p>"), "\(comment.raw)")

        let shown = try desk.ok(["notification", "show", "SD", "--kind", "comment", "--language", "en"])
        #expect(shown.contains("the project's own"))
        #expect(try desk.ok(["notification", "reset", "SD", "comment", "en"]).contains("built-in template again"))
        #expect(
            try desk.ok(["notification", "show", "SD", "--kind", "comment", "--language", "en"]).contains("built in"))
        let preview = try desk.ok(["notification", "show", "SD", "--kind", "received", "--language", "ja", "--preview"])
        #expect(preview.contains("リクエスト SD-1 を受け付けました。"), "\(preview)")
        try await desk.stop()
    }
}
