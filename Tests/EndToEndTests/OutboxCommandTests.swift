import Foundation
import MailServerHarness
import Testing

/// `postdesk smtp set`, `status` and `outbox` through the real binary: a relay that refuses the login is not
/// saved unless asked, holds notifications with its own words in `status`, and once the relay is fixed
/// everything goes out to the customer's real mailbox.
@Suite("Outbox and relay status, end to end", .serialized, .timeLimit(.minutes(3)))
struct OutboxCommandTests {
    struct Health: Decodable {
        struct Relay: Decodable {
            var state: String
            var serverText: String?
            var diagnosis: String?
            var fix: String?
            var failures: Int
            var pending: Int
            var failed: Int
        }
        var relay: Relay
    }

    struct Item: Decodable {
        var id: Int64
        var request: String
        var recipients: [String]
        var status: String
        var attempts: Int
        var lastReply: String?
        var heldBecause: String?
        var sentAt: Date?
    }

    /// A relay that offers AUTH PLAIN and refuses every password.
    static let refusingRelay = FakeMailScript(
        greeting: ["220 relay.test ESMTP"], tagged: false,
        exchanges: [
            .expect("EHLO", "250-relay.test", "250 AUTH PLAIN LOGIN"),
            .expect("AUTH PLAIN", "535 5.7.8 Username and Password not accepted"),
        ],
        anytime: [.expect("QUIT", "221 Bye", then: .close)], unexpectedReply: ["500 unexpected"])

    @Test(
        "a refused relay login is not saved unless asked; saved, notifications wait with its words; fixed, all go out")
    func heldUntilFixed() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "outbox-\(tag)@desk.test"
        let alice = "alice-\(tag)@customer.test"
        for user in [help, alice] { try servers.addUser(user, password: "secret") }
        let relay = try FakeMailServer(Self.refusingRelay)
        defer { relay.stop() }
        let desk = try PostdeskProcess()
        try await desk.start()
        try desk.createProject("OB", name: "Outbox", signup: "public")

        let refusedSet = [
            "smtp", "set", "--host", "127.0.0.1", "--port", "\(relay.port)", "--tls", "none", "--from", help,
            "--username", help,
        ]
        let refused = try desk.run(refusedSet, stdin: "wrong\n")
        #expect(refused.status != 0)
        #expect(refused.err.contains("nothing was saved"), "\(refused.err)")
        #expect(refused.err.contains("535 5.7.8 Username and Password not accepted"))
        #expect(refused.err.contains("app password"))
        #expect(try desk.json(Health.self, ["status"]).relay.state == "not-configured")
        let savedAnyway = try desk.ok(refusedSet + ["--save-anyway"], stdin: "wrong\n")
        #expect(savedAnyway.contains("saved anyway"))

        try desk.ok(
            [
                "channel", "add", "OB", "--address", help, "--host", "127.0.0.1", "--port", "\(servers.imapPort)",
                "--tls", "none", "--request-type", "Help",
            ], stdin: "secret\n")
        try servers.deliver(
            Array(
                "From: \(alice)\r\nTo: \(help)\r\nSubject: Printer\r\nMessage-ID: <p-\(tag)@customer.test>\r\n\r\nBroken.\r\n"
                    .utf8), to: help)
        _ = try await desk.eventually("OB-1 in the queue") {
            try desk.json([QueueRow].self, ["queue", "OB"]).first
        }
        try desk.ok(["request", "comment", "OB-1", "--author", "agent@desk.test", "--body", "We are on it"])

        // The relay refuses the login: the notification waits, no attempt counted, and status says why.
        let failing = try await desk.eventually("the relay failing") {
            let health = try desk.json(Health.self, ["status"])
            return health.relay.state == "failing" ? health.relay : nil
        }
        #expect(failing.serverText == "535 5.7.8 Username and Password not accepted")
        #expect(failing.diagnosis == "The relay refused the user name or password")
        #expect(failing.pending == 1)
        let held = try desk.json([Item].self, ["outbox"])
        #expect(held.map(\.status) == ["pending"])
        #expect(held.map(\.attempts) == [0])
        #expect(held.first?.request == "OB-1")
        #expect(held.first?.recipients == [alice])
        #expect(held.first?.heldBecause == "the SMTP relay fails: The relay refused the user name or password")
        let text = try desk.ok(["status"])
        #expect(text.contains("SMTP relay: failing"))
        #expect(text.contains("Relay said: 535 5.7.8 Username and Password not accepted"))
        #expect(text.contains("Outbox: 1 pending"))

        // The admin points postdesk at a working relay: it is tried at once and the notification goes out.
        let fixed = try desk.ok([
            "smtp", "set", "--host", "127.0.0.1", "--port", "\(servers.smtpPort)", "--tls", "none", "--from", help,
        ])
        #expect(fixed.contains("✓ Sender \(help)"))
        let delivered = try await servers.waitForMessages(1, in: alice, timeout: .seconds(20))
        #expect(delivered.first?.raw.contains("We are on it") == true)
        let sent = try await desk.eventually("the notification recorded as sent") {
            try desk.json([Item].self, ["outbox"]).first { $0.status == "sent" }
        }
        #expect(sent.attempts == 1)
        #expect(sent.heldBecause == nil)
        #expect(sent.lastReply?.hasPrefix("250") == true)
        #expect(try desk.json(Health.self, ["status"]).relay.state == "ok")
        #expect(try desk.ok(["outbox", "--failed"]).contains("No failed notifications."))
        let retrySent = try desk.run(["outbox", "retry", "\(sent.id)"])
        #expect(retrySent.status != 0)
        #expect(retrySent.err.contains("only failed notifications can be retried"))
        try await desk.stop()
    }
}
