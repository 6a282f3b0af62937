import Foundation
import MailServerHarness
import Testing

/// `postdesk channel verify`: a test email through the relay comes back as a test request.
@Suite("Channel verify, end to end", .serialized, .timeLimit(.minutes(3)))
struct ChannelVerifyTests {
    @Test("a test email sent through the relay comes back as a test request; a broken relay is named")
    func verify() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "verify-\(tag)@desk.test"
        try servers.addUser(help, password: "secret")
        let desk = try PostdeskProcess()
        try await desk.start()
        try desk.createProject("VF", name: "Verify", signup: "restricted")
        let noRelay = try desk.run(["channel", "verify", help])
        #expect(noRelay.status != 0)
        try desk.ok([
            "smtp", "set", "--host", "127.0.0.1", "--port", "\(servers.smtpPort)", "--tls", "none", "--from", help,
        ])
        try desk.ok(
            [
                "channel", "add", "VF", "--address", help, "--host", "127.0.0.1", "--port", "\(servers.imapPort)",
                "--tls", "none", "--request-type", "Help",
            ], stdin: "secret\n")
        let verified = try desk.run(["channel", "verify", help, "--timeout", "60"])
        #expect(verified.status == 0, "\(verified.err)")
        #expect(verified.out.contains("Sent a test email"))
        #expect(verified.out.contains("became test request VF-1"))
        #expect(try desk.json([QueueRow].self, ["queue", "VF"]).first?.summary == "postdesk test request for \(help)")

        // A relay that refuses connections: `smtp set` refuses to save it unless told to, and then verify names
        // the failing step and the reason.
        let refused = try desk.run([
            "smtp", "set", "--host", "127.0.0.1", "--port", "1", "--tls", "none", "--from", help,
        ])
        #expect(refused.status != 0)
        #expect(refused.err.contains("nothing was saved"))
        let closed = try desk.run([
            "smtp", "set", "--host", "127.0.0.1", "--port", "1", "--tls", "none", "--from", help, "--save-anyway",
        ])
        #expect(closed.status == 0)
        let broken = try desk.run(["channel", "verify", help, "--timeout", "5"])
        #expect(broken.status != 0)
        #expect(broken.err.contains("relay did not accept"))
        try await desk.stop()
    }
}
