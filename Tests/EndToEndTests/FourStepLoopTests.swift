import Foundation
import Logging
import MailClients
import MailServerHarness
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The seeds' four-step loop, walked through the real `postdesk` binary against real Dovecot and
/// OpenSMTPD, exactly as an admin and a customer would.
@Suite("Four-step email loop, end to end", .serialized, .timeLimit(.minutes(3)))
struct FourStepLoopTests {
    static func mail(from: String, to: String, subject: String, body: String, messageID: String, headers: String = "")
        -> String
    {
        """
        From: Alice <\(from)>
        To: \(to)
        Subject: \(subject)
        Message-ID: <\(messageID)>
        Date: Sat, 21 Nov 2026 10:00:00 +0000
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8
        \(headers)
        \(body)

        """.replacingOccurrences(of: "\n\n\n", with: "\n\n")
    }

    @Test("mail becomes a request, comments are mailed, replies thread, restarts lose and duplicate nothing")
    func fourStepLoop() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "help-\(tag)@desk.test"
        let hr = "hr-\(tag)@desk.test"
        let alice = "alice-\(tag)@customer.test"
        let eve = "eve-\(tag)@customer.test"
        for user in [help, hr, alice, eve] { try servers.addUser(user, password: "secret") }

        let desk = try PostdeskProcess()
        try await desk.start()
        let passwordFile = desk.dataDirectory.appendingPathComponent("pw.txt")
        try "secret\n".write(to: passwordFile, atomically: true, encoding: .utf8)

        // Set-up, as the README shows it.
        try desk.createProject("SD", name: "Service Desk", signup: "public", requestType: "Get help")
        try desk.ok([
            "smtp", "set", "--host", "127.0.0.1", "--port", "\(servers.smtpPort)", "--tls", "none", "--from", help,
        ])
        // A mail that is already in the mailbox before linking is not a new request.
        try servers.deliver(
            Array(
                Self.mail(
                    from: alice, to: help, subject: "old mail", body: "before linking",
                    messageID: "old-\(tag)@customer.test"
                ).utf8),
            to: help)
        try desk.ok([
            "channel", "add", "SD", "--address", help, "--protocol", "imap", "--host", "127.0.0.1", "--port",
            "\(servers.imapPort)", "--tls", "none", "--username", help, "--password-file", passwordFile.path,
            "--request-type", "Get help",
        ])
        try desk.ok(["customer", "add", "SD", alice, "--name", "Alice"])

        // 1. Alice's mail becomes SD-1.
        try await servers.send(
            Self.mail(
                from: alice, to: help, subject: "Re: Fwd: Printer on floor 3 is jammed",
                body: "The printer shows error E42.", messageID: "first-\(tag)@customer.test"), from: alice, to: help)
        let queue = try await desk.eventually("SD-1 in the queue") {
            let rows = try desk.json([QueueRow].self, ["queue", "SD"])
            return rows.isEmpty ? nil : rows
        }
        #expect(queue.map(\.key) == ["SD-1"])
        #expect(queue.first?.summary == "Printer on floor 3 is jammed")
        #expect(queue.first?.reporter == alice)
        let first = try desk.json(RequestJSON.self, ["request", "show", "SD-1"])
        #expect(first.description == "The printer shows error E42.")
        #expect(first.status == "Waiting for support")
        // Processed mail is marked \Seen in the mailbox; the old one is untouched.
        let inbox = try servers.inbox(of: help)
        #expect(inbox.count == 2)
        #expect(inbox.filter { $0.flags.contains("\\Seen") }.count == 1)
        #expect(inbox.first { $0.raw.contains("old mail") }?.flags.contains("\\Seen") == false)
        #expect(try desk.ok(["queue", "SD"]).contains("Printer on floor 3 is jammed"))

        // 2. A public comment is mailed to Alice; an internal one is not.
        try desk.ok([
            "request", "comment", "SD-1", "--author", "agent@desk.test", "--body", "Internal: check toner",
            "--internal",
        ])
        try desk.ok(["request", "comment", "SD-1", "--author", "agent@desk.test", "--body", "We are on it"])
        let notifications = try await servers.waitForMessages(1, in: alice, timeout: .seconds(20))
        let notification = try #require(notifications.first?.raw)
        #expect(notification.contains("[SD-1]"))
        #expect(notification.contains("We are on it"))
        #expect(!notification.contains("check toner"))
        #expect(notification.contains("Auto-Submitted: auto-generated"))
        #expect(notification.contains("Reply-To:") && notification.contains(help))
        let messageID = try #require(Self.header("Message-ID", in: notification))
        #expect(try desk.json(RequestJSON.self, ["request", "show", "SD-1"]).status == "Waiting for customer")

        // 3. Alice's reply becomes a comment without the quoted original; status back to support.
        let reply = Self.mail(
            from: alice, to: help, subject: "Re: [SD-1] Printer on floor 3 is jammed",
            body: """
                Thanks, it works again.

                On Sat, 21 Nov 2026 at 10:05, Service Desk <\(help)> wrote:
                > We are on it
                """,
            messageID: "reply-\(tag)@customer.test",
            headers: "In-Reply-To: \(messageID)\nReferences: <first-\(tag)@customer.test> \(messageID)\n")
        try await servers.send(reply, from: alice, to: help)
        let commented = try await desk.eventually("the reply as a comment") {
            let request = try desk.json(RequestJSON.self, ["request", "show", "SD-1"])
            return request.comments.count == 3 ? request : nil
        }
        #expect(commented.comments.last?.body == "Thanks, it works again.")
        #expect(commented.comments.last?.source == "email")
        #expect(commented.status == "Waiting for support")
        #expect(commented.comments.map(\.public) == [false, true, true])

        // A new mail with no reference and no key is a new request.
        try await servers.send(
            Self.mail(
                from: alice, to: help, subject: "VPN is down", body: "Cannot connect.",
                messageID: "second-\(tag)@customer.test"), from: alice, to: help)
        _ = try await desk.eventually("SD-2") {
            try desk.json([QueueRow].self, ["queue", "SD"]).count == 2 ? true : nil
        }

        // 4. Restricted signup: a stranger's mail creates nothing, and the log says why.
        try desk.ok(["project", "create", "HR", "--name", "People", "--signup", "restricted"])
        try desk.ok([
            "request-type", "add", "HR", "Ask HR", "--field", "summary:visible:required", "--field",
            "description:visible:optional",
        ])
        try desk.ok(
            [
                "channel", "add", "HR", "--address", hr, "--protocol", "imap", "--host", "127.0.0.1", "--port",
                "\(servers.imapPort)", "--tls", "none", "--username", hr, "--request-type", "Ask HR",
            ], stdin: "secret\n")
        try await servers.send(
            Self.mail(
                from: eve, to: hr, subject: "Give me data", body: "Please.", messageID: "eve-\(tag)@customer.test"),
            from: eve, to: hr)
        let ignored = try await desk.eventually("eve's mail in the log") {
            try desk.json([LogRow].self, ["log", "--channel", hr]).first { $0.from == eve && $0.outcome != "pending" }
        }
        #expect(ignored.outcome == "ignored")
        #expect(ignored.detail?.contains("not a customer") == true)
        #expect(try desk.json([QueueRow].self, ["queue", "HR"]).isEmpty)

        // 5. A crash and a restart lose nothing and duplicate nothing: mail sent while the
        // server is down arrives after the restart; nothing already processed is processed again.
        try await desk.stop(signal: SIGKILL)
        try await servers.send(
            Self.mail(
                from: alice, to: help, subject: "Sent while down", body: "Hello?",
                messageID: "down-\(tag)@customer.test"), from: alice, to: help)
        _ = try await servers.waitForMessages(5, in: help, timeout: .seconds(10))
        try await desk.start()
        let after = try await desk.eventually("SD-3 after the restart") {
            let rows = try desk.json([QueueRow].self, ["queue", "SD"])
            return rows.count >= 3 ? rows : nil
        }
        try await Task.sleep(for: .seconds(2))
        let final = try desk.json([QueueRow].self, ["queue", "SD"])
        #expect(final.map(\.key) == ["SD-3", "SD-2", "SD-1"])
        #expect(after.first?.summary == "Sent while down")
        #expect(try desk.json(RequestJSON.self, ["request", "show", "SD-1"]).comments.count == 3)
        #expect(try servers.inbox(of: alice).count == 1)
        try await desk.stop()
    }

    @Test("admin commands fail with one clear line")
    func adminErrors() async throws {
        let desk = try PostdeskProcess()
        let notRunning = try desk.run(["queue", "SD"])
        #expect(notRunning.status != 0)
        #expect(notRunning.err.contains("not running"))
        try await desk.start()
        let unknown = try desk.run(["queue", "NOPE"])
        #expect(unknown.status != 0)
        #expect(unknown.err.trimmingCharacters(in: .whitespacesAndNewlines) == "error: unknown project NOPE")
        try desk.ok(["project", "create", "SD", "--name", "Service Desk"])
        let duplicate = try desk.run(["project", "create", "SD", "--name", "Again"])
        #expect(duplicate.status != 0)
        #expect(duplicate.err.contains("already exists"))
        let second = try PostdeskProcess()
        let sameDir = try second.run(["serve", "--data-dir", desk.dataDirectory.path])
        #expect(sameDir.status != 0)
        #expect(sameDir.err.contains("already running"))
        let attributes = try FileManager.default.attributesOfItem(atPath: desk.socket)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        try await desk.stop()
    }

    static func header(_ name: String, in raw: String) -> String? {
        for line in raw.components(separatedBy: "\r\n") + raw.components(separatedBy: "\n")
        where line.lowercased().hasPrefix(name.lowercased() + ":") {
            return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}
