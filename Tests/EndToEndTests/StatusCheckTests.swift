import Foundation
import MailServerHarness
import Testing

/// `postdesk status --check` through the real binary, as a HEALTHCHECK, monitor or cron job runs it: one line, and
/// a non-zero exit naming what is wrong — no server, a mailbox that needs attention, a failing relay, failed
/// notifications, or pending ones older than --stuck-after.
@Suite("Status check, end to end", .serialized, .timeLimit(.minutes(3)))
struct StatusCheckTests {
    /// A relay without AUTH that takes the sender (so `smtp set`'s test passes) and refuses every recipient for good.
    static let refusingRecipients = FakeMailScript(
        greeting: ["220 relay.test ESMTP"], tagged: false,
        exchanges: [.expect("EHLO", "250-relay.test", "250 8BITMIME")],
        anytime: [
            .expect("MAIL FROM", "250 2.1.0 Ok"),
            .expect("RCPT TO", "550 5.1.1 Recipient address rejected: User unknown"),
            .expect("RSET", "250 2.0.0 Ok"),
            .expect("QUIT", "221 2.0.0 Bye", then: .close),
        ],
        unexpectedReply: ["500 5.5.1 unexpected command (fake server script)"])

    /// A relay that offers AUTH PLAIN and refuses every password.
    static let refusingLogin = FakeMailScript(
        greeting: ["220 relay.test ESMTP"], tagged: false,
        exchanges: [
            .expect("EHLO", "250-relay.test", "250 AUTH PLAIN LOGIN"),
            .expect("AUTH PLAIN", "535 5.7.8 Username and Password not accepted"),
        ],
        anytime: [.expect("QUIT", "221 Bye", then: .close)], unexpectedReply: ["500 unexpected"])

    struct Item: Decodable {
        var status: String
    }

    /// Runs `status --check` (with `extra`) and expects exactly one line on standard output.
    static func check(
        _ desk: PostdeskProcess, _ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
    )
        throws -> (status: Int32, line: String)
    {
        let result = try desk.run(["status", "--check"] + extra)
        let lines = result.out.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(
            lines.count == 1, "status --check printed \(lines.count) lines: \(result.out)",
            sourceLocation: sourceLocation)
        return (result.status, lines.first.map(String.init) ?? "")
    }

    @Test("no server: non-zero with the not-running error; a fresh server: exit 0 and one ok line")
    func serverAndOk() async throws {
        let desk = try PostdeskProcess()
        let absent = try desk.run(["status", "--check"])
        #expect(absent.status != 0)
        #expect(absent.out.isEmpty)
        #expect(
            absent.err.contains("postdesk server is not running: no admin socket at \(desk.socket)"), "\(absent.err)")

        try await desk.start()
        let fresh = try Self.check(desk)
        #expect(fresh.status == 0)
        #expect(fresh.line == "ok: 0 mailboxes running, no SMTP relay set, 0 notifications pending")
        let both = try desk.run(["status", "--check", "--json"])
        #expect(both.status != 0)
        #expect(both.err.contains("--check prints one line; leave out --json"))
        try await desk.stop()
    }

    @Test("a stuck outbox fails the check: pending past --stuck-after, a failed notification, a failing relay")
    func stuckOutbox() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "check-\(tag)@desk.test"
        let alice = "alice-\(tag)@customer.test"
        try servers.addUser(help, password: "secret")
        let desk = try PostdeskProcess()
        try await desk.start()
        try desk.createProject("SC", name: "Check", signup: "public")
        try desk.ok(
            [
                "channel", "add", "SC", "--address", help, "--host", "127.0.0.1", "--port", "\(servers.imapPort)",
                "--tls", "none", "--request-type", "Help",
            ], stdin: "secret\n")
        try servers.deliver(
            Array(
                "From: \(alice)\r\nTo: \(help)\r\nSubject: Printer\r\nMessage-ID: <c-\(tag)@customer.test>\r\n\r\nBroken.\r\n"
                    .utf8), to: help)
        _ = try await desk.eventually("SC-1 in the queue") { try desk.json([QueueRow].self, ["queue", "SC"]).first }
        let healthy = try Self.check(desk)
        #expect(healthy.status == 0, "\(healthy.line)")
        #expect(healthy.line == "ok: 1 mailbox running, no SMTP relay set, 0 notifications pending")

        // No relay: the notification waits. Young, it is fine; older than --stuck-after, the outbox is stuck.
        try desk.ok(["request", "comment", "SC-1", "--author", "agent@desk.test", "--body", "On it"])
        let young = try Self.check(desk)
        #expect(young.status == 0, "\(young.line)")
        #expect(young.line == "ok: 1 mailbox running, no SMTP relay set, 1 notification pending")
        try await Task.sleep(for: .seconds(2.2))
        let stuck = try Self.check(desk, ["--stuck-after", "1"])
        #expect(stuck.status != 0)
        #expect(stuck.line.hasPrefix("needs attention: outbox stuck: 1 pending, the oldest since "), "\(stuck.line)")
        #expect(stuck.line.hasSuffix(", longer than 1 s (no SMTP relay is set)"), "\(stuck.line)")

        // A relay that refuses the recipient for good: the notification fails, and the check says so.
        let refusing = try FakeMailServer(Self.refusingRecipients)
        defer { refusing.stop() }
        try desk.ok([
            "smtp", "set", "--host", "127.0.0.1", "--port", "\(refusing.port)", "--tls", "none", "--from", help,
        ])
        _ = try await desk.eventually("the notification failed") {
            try desk.json([Item].self, ["outbox"]).first { $0.status == "failed" }
        }
        let failed = try Self.check(desk)
        #expect(failed.status != 0)
        #expect(failed.line == "needs attention: 1 notification failed (postdesk outbox --failed)", "\(failed.line)")

        // A relay that refuses the login, with a new notification due: the relay fails, named before the rest.
        let locked = try FakeMailServer(Self.refusingLogin)
        defer { locked.stop() }
        try desk.ok(
            [
                "smtp", "set", "--host", "127.0.0.1", "--port", "\(locked.port)", "--tls", "none", "--from", help,
                "--username", help, "--save-anyway",
            ], stdin: "wrong\n")
        try desk.ok(["request", "comment", "SC-1", "--author", "agent@desk.test", "--body", "Still on it"])
        let failing = try await desk.eventually("the check naming the failing relay") {
            let result = try Self.check(desk)
            return result.line.contains("SMTP relay failing") ? result : nil
        }
        #expect(failing.status != 0)
        #expect(failing.line.hasPrefix("needs attention: SMTP relay failing since "), "\(failing.line)")
        #expect(failing.line.contains("(The relay refused the user name or password)"), "\(failing.line)")
        #expect(failing.line.hasSuffix("; 1 notification failed (postdesk outbox --failed)"), "\(failing.line)")
        try await desk.stop()
    }

    @Test("a mailbox whose password was changed needs attention: the check names it with the server's words")
    func mailboxNeedsAttention() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "attn-\(tag)@desk.test"
        try servers.addUser(help, password: "secret")
        let desk = try PostdeskProcess()
        try await desk.start()
        try desk.createProject("SA", name: "Attention", signup: "public")
        try desk.ok(
            [
                "channel", "add", "SA", "--address", help, "--protocol", "imap", "--host", "127.0.0.1", "--port",
                "\(servers.imapPort)", "--tls", "none", "--request-type", "Help",
            ], stdin: "secret\n")
        #expect(try Self.check(desk).status == 0)

        try servers.addUser(help, password: "changed")
        try await Task.sleep(for: .seconds(1.1))
        try await desk.stop()
        try await desk.start()
        let attention = try await desk.eventually("the check naming the mailbox") {
            let result = try Self.check(desk)
            return result.status != 0 ? result : nil
        }
        #expect(attention.line.hasPrefix("needs attention: mailbox \(help) needs attention ("), "\(attention.line)")
        #expect(attention.line.contains("Authentication failed"), "\(attention.line)")
        try await desk.stop()
    }
}
