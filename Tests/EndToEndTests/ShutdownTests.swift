import Foundation
import MailServerHarness
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// SIGTERM drains: intake stops, the IDLE session ends with DONE and LOGOUT, and the process exits
/// well within its shutdown deadline, against the real binary and real Dovecot. (A POP3 session cut
/// short sends no QUIT on purpose: without it the server deletes nothing, RFC 1939 §6.)
@Suite("Shutdown, end to end", .serialized, .timeLimit(.minutes(2)))
struct ShutdownTests {
    @Test("SIGTERM ends IDLE and logs the IMAP session out, drains the notifier, and exits within the deadline")
    func sigtermDrains() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let imap = "stop-imap-\(tag)@desk.test"
        let pop3 = "stop-pop3-\(tag)@desk.test"
        for user in [imap, pop3] { try servers.addUser(user, password: "secret") }
        let desk = try PostdeskProcess()
        try await desk.start()
        try desk.createProject("ST", name: "Stop", signup: "public")
        try desk.ok(
            [
                "channel", "add", "ST", "--address", imap, "--host", "127.0.0.1", "--port", "\(servers.imapPort)",
                "--tls", "none", "--request-type", "Help",
            ], stdin: "secret\n")
        try desk.ok(
            [
                "channel", "add", "ST", "--address", pop3, "--protocol", "pop3", "--host", "127.0.0.1", "--port",
                "\(servers.pop3Port)", "--tls", "none", "--request-type", "Help",
            ], stdin: "secret\n")
        func imapSessions() -> [Substring] {
            let log = (try? String(contentsOfFile: servers.dovecotLog, encoding: .utf8)) ?? ""
            return log.split(separator: "\n").filter { $0.contains("imap(\(imap))") }
        }
        // The IMAP session is idling once a mail went through.
        try servers.deliver(
            Array("From: a@customer.test\r\nSubject: one\r\nMessage-ID: <s1-\(tag)@x>\r\n\r\nhi\r\n".utf8), to: imap)
        _ = try await desk.eventually("ST-1") { try desk.json([QueueRow].self, ["queue", "ST"]).isEmpty ? nil : true }
        let before = imapSessions().count
        let started = ContinuousClock.now
        try await desk.stop(signal: SIGTERM)
        let took = ContinuousClock.now - started
        #expect(took < .seconds(20))
        let closing = try await eventuallyValue("the IMAP session's end in Dovecot's log") {
            let lines = imapSessions().dropFirst(before)
            // Dovecot says "Disconnected: Logged out" after LOGOUT, "Disconnected: Connection closed" without.
            return lines.contains { $0.contains("Disconnected") } ? lines : nil
        }
        #expect(closing.contains { $0.contains("Logged out") }, "\(closing)")
        #expect(!closing.contains { $0.contains("Connection closed") }, "\(closing)")
        #expect(desk.serverLog.contains("notifier drained for shutdown"))
    }

    private func eventuallyValue<T>(_ what: String, _ condition: () -> T?) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let value = condition() { return value }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PostdeskTestError("timed out waiting for \(what)")
    }
}
