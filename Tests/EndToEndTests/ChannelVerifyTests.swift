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

    @Test(
        "a push channel: verify says what it checks (LMTP routing, the listener, no mailbox to log into) and the mail comes back over LMTP; without --lmtp-listen nothing is sent"
    )
    func verifyPush() async throws {
        let port = try freeLoopbackPort()
        let servers = try await MailServers.start(
            lmtpRoutes: [LMTPRoute(domain: LMTPDeliveryTests.pushDomain, destination: "127.0.0.1:\(port)")])
        defer { servers.stop() }
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "verify-\(tag)@\(LMTPDeliveryTests.pushDomain)"
        let desk = try PostdeskProcess(extraArguments: ["--lmtp-listen", "127.0.0.1:\(port)"])
        try await desk.start()
        try desk.createProject("VP", name: "Verify push", signup: "restricted")
        try desk.ok([
            "smtp", "set", "--host", "127.0.0.1", "--port", "\(servers.smtpPort)", "--tls", "none", "--from", help,
        ])
        try desk.ok(["channel", "add", "VP", "--address", help, "--protocol", "lmtp", "--request-type", "Help"])
        let verified = try desk.run(["channel", "verify", help, "--timeout", "60"])
        #expect(verified.status == 0, "\(verified.out)\(verified.err)")
        #expect(
            verified.out.contains("\(help) is a push channel (LMTP): there is no mailbox to log into"),
            "\(verified.out)")
        #expect(verified.out.contains("is routed to this channel over LMTP"), "\(verified.out)")
        #expect(
            verified.out.contains("--lmtp-listen (push delivery over LMTP on 127.0.0.1:\(port))"), "\(verified.out)")
        #expect(verified.out.contains("Sent a test email"))
        #expect(verified.out.contains("arrived over LMTP at this server's listener and became test request VP-1"))
        #expect(!verified.out.contains("mailbox idle") && !verified.out.contains("through the mailbox"))
        try await desk.stop()

        // The same on a server without --lmtp-listen: the mail could never arrive, so verify sends nothing and says why.
        let unheard = "unheard-\(tag)@\(LMTPDeliveryTests.pushDomain)"
        let deaf = try PostdeskProcess()
        try await deaf.start()
        try deaf.createProject("VQ", name: "No listener", signup: "restricted")
        try deaf.ok([
            "smtp", "set", "--host", "127.0.0.1", "--port", "\(servers.smtpPort)", "--tls", "none", "--from", unheard,
        ])
        try deaf.ok(["channel", "add", "VQ", "--address", unheard, "--protocol", "lmtp", "--request-type", "Help"])
        let refused = try deaf.run(["channel", "verify", unheard, "--timeout", "5"])
        #expect(refused.status != 0)
        #expect(refused.err.contains("there is no mailbox to log into"), "\(refused.err)")
        #expect(refused.err.contains("which this server does not run"), "\(refused.err)")
        #expect(refused.err.contains("--lmtp-listen HOST:PORT") && refused.err.contains("nothing was sent"))
        let smtpdLog = (try? String(contentsOfFile: servers.smtpdLog, encoding: .utf8)) ?? ""
        // OpenSMTPD logs every envelope it takes ("smtp envelope … to=<…>"); `smtp set` only tries MAIL FROM.
        #expect(!smtpdLog.contains("to=<\(unheard)>"), "no test email may have been sent")
        #expect(try !servers.smtpctl(["show", "queue"]).contains(unheard))
        try await deaf.stop()
    }
}
