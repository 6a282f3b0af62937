import Foundation
import Logging
import MailClients
import MailServerHarness
import Testing

/// "A customer emailed but no request was created" must be answerable for every message: each
/// outcome of the processing log, produced end to end through the real binary and mail servers.
@Suite("Processing log, end to end", .serialized, .timeLimit(.minutes(3)))
struct ProcessingLogTests {
    static func mail(
        from: String, to: String, subject: String, id: String, headers: String = "", body: String = "Hello."
    )
        -> String
    {
        "From: \(from)\r\nTo: \(to)\r\nSubject: \(subject)\r\nMessage-ID: <\(id)>\r\n\(headers)\r\n\(body)\r\n"
    }

    @Test("every outcome appears in postdesk log with its reason")
    func everyOutcome() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "log-\(tag)@desk.test"
        let alias = "log-alias-\(tag)@desk.test"
        let alice = "alice-\(tag)@customer.test"
        let eve = "eve-\(tag)@customer.test"
        let spammer = "x-\(tag)@spam.test"
        try servers.addUser(help, password: "secret")

        let desk = try PostdeskProcess()
        try await desk.start()
        try desk.createProject("LG", name: "Log", signup: "restricted")
        try desk.ok(["customer", "add", "LG", alice])
        try desk.ok(["customer", "allow", "LG", "spam.test"])
        try desk.ok(["customer", "block", "LG", spammer])
        let linked = try desk.ok(
            [
                "channel", "add", "LG", "--address", help, "--host", "127.0.0.1", "--port", "\(servers.imapPort)",
                "--tls", "none", "--request-type", "Help", "--extra-address", alias,
            ], stdin: "secret\n")
        #expect(linked.contains("Linked \(help)"))

        // created, then commented (key in the subject), then an auto-reply, a stranger, a blocked sender.
        try servers.deliver(
            Array(Self.mail(from: alice, to: help, subject: "Printer", id: "a1-\(tag)@x").utf8), to: help)
        _ = try await desk.eventually("LG-1") { try desk.json([QueueRow].self, ["queue", "LG"]).isEmpty ? nil : true }
        try servers.deliver(
            Array(Self.mail(from: alice, to: alias, subject: "Re: [LG-1] Printer", id: "a2-\(tag)@x").utf8), to: help)
        try servers.deliver(
            Array(
                Self.mail(
                    from: alice, to: help, subject: "Out of office", id: "oof-\(tag)@x",
                    headers: "Auto-Submitted: auto-replied\r\n"
                ).utf8), to: help)
        try servers.deliver(Array(Self.mail(from: eve, to: help, subject: "Hi", id: "e-\(tag)@x").utf8), to: help)
        try servers.deliver(Array(Self.mail(from: spammer, to: help, subject: "Buy", id: "s-\(tag)@x").utf8), to: help)
        // The same message twice (sent to the address and its alias): one request, one duplicate.
        let twice = Self.mail(from: alice, to: "\(help), \(alias)", subject: "Twice", id: "t-\(tag)@x")
        try servers.deliver(Array(twice.utf8), to: help)
        try servers.deliver(Array(twice.utf8), to: help)
        // Read in the mailbox before postdesk could fetch it: skipped, and said so.
        try desk.ok(["channel", "list"])
        let log = try await desk.eventually("all outcomes in the log") {
            let rows = try desk.json([LogRow].self, ["log", "--channel", help])
            return rows.count >= 7 && !rows.contains { $0.outcome == "pending" } ? rows : nil
        }
        func row(_ subject: String) -> LogRow? { log.first { $0.subject == subject && $0.outcome != "duplicate" } }
        #expect(row("Printer")?.outcome == "created")
        #expect(row("Printer")?.request == "LG-1")
        #expect(row("Re: [LG-1] Printer")?.outcome == "commented")
        #expect(row("Out of office")?.outcome == "ignored")
        #expect(row("Out of office")?.detail?.contains("Auto-Submitted") == true)
        #expect(row("Hi")?.detail?.contains("not a customer") == true)
        #expect(row("Buy")?.detail?.contains("blocked") == true)
        #expect(row("Twice")?.outcome == "created")
        #expect(log.first { $0.outcome == "duplicate" }?.subject == "Twice")
        #expect(try desk.json([QueueRow].self, ["queue", "LG"]).count == 2)
        let text = try desk.ok(["log", "--channel", help])
        #expect(text.contains("ignored: not a customer"))

        // A message marked read before postdesk fetched it: the server is stopped so nothing races.
        try await desk.stop()
        try servers.deliver(
            Array(Self.mail(from: alice, to: help, subject: "Read already", id: "r-\(tag)@x").utf8), to: help)
        _ = try servers.doveadm([
            "flags", "add", "-u", help, "\\Seen", "mailbox", "INBOX", "HEADER", "Subject", "Read already",
        ])
        // And a mail that cannot be processed (its attachment cannot be stored) is kept and logged as failed.
        let attachments = desk.dataDirectory.appendingPathComponent("attachments")
        try? FileManager.default.removeItem(at: attachments)
        _ = FileManager.default.createFile(atPath: attachments.path, contents: Data("not a directory".utf8))
        let withFile = """
            From: \(alice)\r
            To: \(help)\r
            Subject: With file\r
            Message-ID: <f-\(tag)@x>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b"\r
            \r
            --b\r
            Content-Type: text/plain\r
            \r
            See file.\r
            --b\r
            Content-Type: application/pdf; name="a.pdf"\r
            Content-Transfer-Encoding: base64\r
            \r
            JVBERi0xLjQK\r
            --b--\r

            """
        try servers.deliver(Array(withFile.utf8), to: help)
        try await desk.start()
        let later = try await desk.eventually("skipped and failed in the log") {
            let rows = try desk.json([LogRow].self, ["log", "--channel", help])
            let outcomes = Set(rows.map(\.outcome))
            return outcomes.contains("skipped") && outcomes.contains("failed") ? rows : nil
        }
        #expect(later.first { $0.outcome == "skipped" }?.subject == "Read already")
        #expect(later.first { $0.outcome == "skipped" }?.detail?.contains("mark it unread") == true)
        #expect(later.first { $0.outcome == "failed" }?.detail?.contains("attachment") == true)
        #expect(later.first { $0.outcome == "failed" }?.detail?.contains("quarantined after 3 attempts") == true)
        // The admin finds it, takes it out byte for byte, fixes the cause and has it processed again.
        let failed = try desk.json([LogRow].self, ["log", "--channel", help, "--failed"])
        #expect(failed.map(\.subject) == ["With file"])
        let id = try #require(failed.first?.inbound)
        let raw = try desk.run(["inbound", "show", String(id), "--raw"])
        #expect(raw.out == withFile)
        #expect(try desk.ok(["inbound", "show", String(id)]).contains("quarantined"))
        try FileManager.default.removeItem(at: attachments)
        #expect(try desk.ok(["inbound", "retry", "--all-failed"]).contains("\(id)"))
        _ = try await desk.eventually("the retried mail becomes a request") {
            try desk.json([LogRow].self, ["log", "--channel", help]).first {
                $0.inbound == id && $0.outcome == "created"
            }
        }
        let status = try desk.ok(["status"])
        #expect(status.contains(help))
        try await desk.stop()
    }

    @Test("postdesk inspect shows how a message is read, offline")
    func inspect() throws {
        let desk = try PostdeskProcess()
        let file = desk.dataDirectory.appendingPathComponent("oof.eml")
        try Self.mail(
            from: "Bob <bob@customer.test>", to: "help@desk.test", subject: "=?UTF-8?B?5LyR5pqH?= Re: hi",
            id: "oof@x", headers: "Auto-Submitted: auto-replied\r\n"
        ).write(to: file, atomically: true, encoding: .utf8)
        let text = try desk.run(["inspect", file.path], socket: false)
        #expect(text.status == 0)
        #expect(text.out.contains("bob@customer.test"))
        #expect(text.out.contains("Auto-Submitted"))
        let json = try desk.run(["inspect", file.path, "--json"], socket: false)
        #expect(json.status == 0)
        #expect(json.out.contains("\"summary\""))
        let missing = try desk.run(["inspect", "/nonexistent.eml"], socket: false)
        #expect(missing.status != 0)
        #expect(missing.err.contains("cannot read"))
    }
}
