import Foundation
import Logging
import MailClients
import MailServerHarness
import Testing

/// Auto-responders and floods against the real binary, real OpenSMTPD and Dovecot's own Sieve
/// vacation (Pigeonhole), delivered over LMTP as in production.
@Suite("Loops and floods, end to end", .serialized, .timeLimit(.minutes(3)))
struct LoopAndFloodTests {
    static func mail(from: String, to: String, subject: String, id: String) -> String {
        """
        From: \(from)
        To: \(to)
        Subject: \(subject)
        Message-ID: <\(id)>
        Date: Tue, 01 Dec 2026 10:00:00 +0000

        Disk full on host 7.

        """
    }

    @Test("a sender over the hourly limit is held and logged; release lets every mail through once")
    func flood() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "flood-\(tag)@desk.test"
        let robot = "monitor-\(tag)@customer.test"
        try servers.addUser(help, password: "secret")
        let desk = try PostdeskProcess(extraArguments: ["--sender-rate-limit", "5"])
        try await desk.start()
        try desk.createProject("FL", name: "Flood", signup: "public")
        try desk.ok(
            [
                "channel", "add", "FL", "--address", help, "--host", "127.0.0.1", "--port", "\(servers.imapPort)",
                "--tls", "none", "--request-type", "Help",
            ], stdin: "secret\n")
        // Straight into the mailbox: the breaker's decision does not depend on how mail arrives.
        for number in 1...8 {
            let raw = Self.mail(from: robot, to: help, subject: "Alert \(number)", id: "alert\(number)-\(tag)@x")
            try servers.deliver(Array(raw.replacingOccurrences(of: "\n", with: "\r\n").utf8), to: help)
        }
        let log = try await desk.eventually("8 mails in the log, none pending", timeout: .seconds(90)) {
            let rows = try desk.json([LogRow].self, ["log", "--channel", help])
            return rows.count == 8 && !rows.contains { $0.outcome == "pending" } ? rows : nil
        }
        #expect(log.filter { $0.outcome == "created" }.count == 5)
        #expect(log.filter { $0.outcome == "held" }.count == 3)
        #expect(log.first { $0.outcome == "held" }?.detail?.contains("more than 5 mails") == true)
        #expect(try desk.json([LogRow].self, ["log", "--held"]).count == 3)
        #expect(try desk.ok(["inbound", "release", "--sender", robot]).contains("Release"))
        _ = try await desk.eventually("every alert a request", timeout: .seconds(60)) {
            try desk.json([QueueRow].self, ["queue", "FL"]).count == 8 ? true : nil
        }
        #expect(try desk.json([LogRow].self, ["log", "--held"]).isEmpty)
        try await desk.stop()
    }

    @Test("a real Sieve vacation answers people but not our notifications, and its replies create nothing")
    func vacation() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "loop-\(tag)@desk.test"
        let customer = "away-\(tag)@customer.test"
        let colleague = "colleague-\(tag)@customer.test"
        for user in [help, customer, colleague] { try servers.addUser(user, password: "secret") }
        // RFC 5230 and RFC 6131: answer every mail that may be answered, with no quiet period.
        try servers.setSieveScript(
            """
            require ["vacation", "vacation-seconds"];
            vacation :seconds 0 :subject "Out of office" "I am away until Monday.";
            """, for: customer)
        let desk = try PostdeskProcess()
        try await desk.start()
        try desk.createProject("LP", name: "Loop", signup: "public")
        try desk.ok([
            "smtp", "set", "--host", "127.0.0.1", "--port", "\(servers.smtpPort)", "--tls", "none", "--from", help,
        ])
        try desk.ok(
            [
                "channel", "add", "LP", "--address", help, "--host", "127.0.0.1", "--port", "\(servers.imapPort)",
                "--tls", "none", "--request-type", "Help",
            ], stdin: "secret\n")
        // The responder is live: a colleague's mail is answered.
        try await servers.send(
            Self.mail(from: colleague, to: customer, subject: "Lunch?", id: "lunch-\(tag)@x"), from: colleague,
            to: customer)
        let answered = try await servers.waitForMessages(1, in: colleague, timeout: .seconds(20))
        #expect(answered.count == 1)
        // The customer writes in and an agent answers three times.
        try await servers.send(
            Self.mail(from: customer, to: help, subject: "Printer", id: "p-\(tag)@x"), from: customer, to: help)
        _ = try await desk.eventually("LP-1") { try desk.json([QueueRow].self, ["queue", "LP"]).isEmpty ? nil : true }
        for number in 1...3 {
            try desk.ok(["request", "comment", "LP-1", "--author", "agent@desk.test", "--body", "Update \(number)"])
        }
        // The colleague's mail and the three notifications.
        let inbox = try await servers.waitForMessages(4, in: customer, timeout: .seconds(30))
        #expect(inbox.filter { $0.raw.contains("Auto-Submitted: auto-generated") }.count == 3)
        // The notifications are marked Auto-Submitted, so the customer's vacation stays quiet
        // (RFC 3834 §2, RFC 5230 §4.5): no loop starts, nothing comes back to the desk.
        try await Task.sleep(for: .seconds(2))
        let log = try desk.json([LogRow].self, ["log", "--channel", help])
        #expect(log.map(\.outcome) == ["created"])
        // A vacation reply that does reach the desk (the customer's responder answering a person
        // at the desk) is recognised and creates nothing.
        try await servers.send(
            Self.mail(from: help, to: customer, subject: "A question from the desk", id: "q-\(tag)@x"), from: help,
            to: customer)
        let withReply = try await desk.eventually("the vacation reply in the desk's log") {
            let rows = try desk.json([LogRow].self, ["log", "--channel", help])
            return rows.count == 2 && !rows.contains { $0.outcome == "pending" } ? rows : nil
        }
        #expect(withReply.first?.outcome == "ignored")
        #expect(withReply.first?.detail?.contains("auto-reply") == true)
        #expect(try desk.json([QueueRow].self, ["queue", "LP"]).count == 1)
        try await desk.stop()
    }
}
