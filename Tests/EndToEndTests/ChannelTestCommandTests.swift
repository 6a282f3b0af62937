import Foundation
import MailServerHarness
import Testing

/// `postdesk channel test` and `postdesk status` through the real binary: a refused login puts
/// the channel in needs-attention with the server's words (no retry loop); a passing re-test
/// starts it again.
@Suite("Channel test and status, end to end", .serialized, .timeLimit(.minutes(3)))
struct ChannelTestCommandTests {
    struct Health: Decodable {
        struct Channel: Decodable {
            var address: String
            var state: String
            var detail: String?
        }
        var channels: [Channel]
    }

    @Test("a refused login needs attention with the server's words until a re-test passes")
    func needsAttentionUntilRetest() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "test-\(tag)@desk.test"
        try servers.addUser(help, password: "secret")
        let desk = try PostdeskProcess()
        try await desk.start()
        try desk.createProject("CT", name: "Test", signup: "public")
        try desk.ok([
            "smtp", "set", "--host", "127.0.0.1", "--port", "\(servers.smtpPort)", "--tls", "none", "--from", help,
        ])
        try desk.ok(
            [
                "channel", "add", "CT", "--address", help, "--protocol", "imap", "--host", "127.0.0.1", "--port",
                "\(servers.imapPort)", "--tls", "none", "--request-type", "Help",
            ], stdin: "secret\n")
        let good = try desk.run(["channel", "test", help])
        #expect(good.status == 0, "\(good.out)\(good.err)")
        #expect(good.out.contains("✓"))
        #expect(good.out.contains("would be processed"))

        // The password changes on the server: the mailbox stops and says why, without retrying.
        try servers.addUser(help, password: "changed")
        try await Task.sleep(for: .seconds(1.1))
        try await desk.stop()
        try await desk.start()
        let attention = try await desk.eventually("needs-attention") {
            try desk.json(Health.self, ["status"]).channels.first {
                $0.address == help && $0.state == "needs-attention"
            }
        }
        #expect(attention.detail?.contains("Authentication failed") == true)
        let failing = try desk.run(["channel", "test", help])
        #expect(failing.status != 0)
        #expect(failing.out.contains("Server said:"))
        #expect(failing.out.contains("Fix:"))

        // The password is put back: a passing re-test starts the mailbox again.
        try servers.addUser(help, password: "secret")
        try await Task.sleep(for: .seconds(1.1))
        let retest = try desk.run(["channel", "test", help])
        #expect(retest.status == 0, "\(retest.out)")
        _ = try await desk.eventually("idle again") {
            try desk.json(Health.self, ["status"]).channels.first { $0.address == help && $0.state == "idle" }
        }
        try await desk.stop()
    }

    @Test("POP3 over implicit TLS with a private CA: linking without --ca-file says why, with it works end to end")
    func privateCA() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "tls-\(tag)@desk.test"
        let alice = "alice-\(tag)@customer.test"
        try servers.addUser(help, password: "secret")
        let desk = try PostdeskProcess()
        try await desk.start()
        try desk.createProject("TL", name: "TLS", signup: "public")
        let add = [
            "channel", "add", "TL", "--address", help, "--protocol", "pop3", "--host", "127.0.0.1", "--port",
            "\(servers.pop3sPort)", "--tls", "implicit", "--request-type", "Help",
        ]
        let untrusted = try desk.run(add, stdin: "secret\n")
        #expect(untrusted.status != 0)
        #expect(untrusted.err.contains("--ca-file"))
        let linked = try desk.ok(add + ["--ca-file", servers.caFile], stdin: "secret\n")
        #expect(linked.contains("Warning: POP3 deletes"))
        try servers.deliver(
            Array("From: \(alice)\r\nSubject: Over TLS\r\nMessage-ID: <tls-\(tag)@x>\r\n\r\nHello\r\n".utf8), to: help)
        _ = try await desk.eventually("TL-1") {
            try desk.json([QueueRow].self, ["queue", "TL"]).first { $0.summary == "Over TLS" }
        }
        _ = try await desk.eventually("the mail deleted from the POP3 mailbox") {
            try servers.inbox(of: help).isEmpty ? true : nil
        }
        try await desk.stop()
    }
}
