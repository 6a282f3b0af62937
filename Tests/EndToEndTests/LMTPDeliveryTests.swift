import Foundation
import Logging
import MailClients
import MailServerHarness
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Push delivery (DESIGN.md §7) with a real OpenSMTPD in front of the real `postdesk` binary: OpenSMTPD's local
/// `lmtp "127.0.0.1:PORT" rcpt-to` action delivers every address of push.test into `serve --lmtp-listen`.
@Suite("LMTP push delivery, end to end", .serialized, .timeLimit(.minutes(4)))
struct LMTPDeliveryTests {
    static let pushDomain = "push.test"

    static func mail(from: String, to: String, subject: String, messageID: String) -> String {
        """
        From: Alice <\(from)>
        To: \(to)
        Subject: \(subject)
        Message-ID: <\(messageID)>
        Date: Tue, 01 Dec 2026 10:00:00 +0000
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8

        The printer shows error E42.

        """
    }

    /// Mail servers whose OpenSMTPD routes push.test to `port`, and a postdesk listening there with project SD.
    static func start() async throws -> (MailServers, PostdeskProcess, port: Int) {
        let port = try freeLoopbackPort()
        let servers = try await MailServers.start(
            lmtpRoutes: [LMTPRoute(domain: pushDomain, destination: "127.0.0.1:\(port)")])
        let desk = try PostdeskProcess(extraArguments: ["--lmtp-listen", "127.0.0.1:\(port)"])
        try await desk.start()
        try desk.createProject("SD", name: "Service Desk", signup: "public", requestType: "Get help")
        return (servers, desk, port)
    }

    static func send(_ servers: MailServers, _ raw: String, from: String, to: [String]) async throws {
        let endpoint = MailServerEndpoint(host: "127.0.0.1", port: servers.smtpPort, tls: .none)
        _ = try await SMTPClient.send(
            Array(raw.replacingOccurrences(of: "\n", with: "\r\n").utf8), from: from, to: to, via: endpoint,
            credentials: nil, heloName: "customer.test", logger: Logger(label: "e2e"))
    }

    /// The queue, read straight from the admin socket (no CLI process per poll, so latencies are in ms).
    static func queue(_ desk: PostdeskProcess) throws -> [QueueRow] {
        try desk.getJSON([QueueRow].self, "/v1/projects/SD/queue")
    }

    @Test("SMTP to OpenSMTPD becomes a request over LMTP; an unknown address is refused; LMTP + IMAP is one request")
    func pushDelivery() async throws {
        let (servers, desk, _) = try await Self.start()
        defer { servers.stop() }
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "help-\(tag)@\(Self.pushDomain)"
        let alice = "alice-\(tag)@customer.test"
        let linked = try desk.ok([
            "channel", "add", "SD", "--address", help, "--protocol", "lmtp", "--request-type", "Get help",
        ])
        #expect(linked.contains("push delivery over LMTP"))
        let status = try desk.ok(["status"])
        #expect(status.contains(help) && status.contains("push delivery over LMTP on 127.0.0.1:"))
        let test = try desk.run(["channel", "test", help])
        #expect(test.status == 0 && test.out.contains("Push delivery over LMTP"), "\(test.out)\(test.err)")

        // 1. A customer's mail, sent by SMTP to OpenSMTPD, is a request without any mailbox polled.
        let clock = ContinuousClock()
        var latencies: [Duration] = []
        for round in 1...5 {
            let sent = clock.now
            try await Self.send(
                servers,
                Self.mail(
                    from: alice, to: help, subject: "Printer \(round)", messageID: "p\(round)-\(tag)@customer.test"),
                from: alice, to: [help])
            let deadline = sent + .seconds(20)
            while try Self.queue(desk).count < round {
                guard clock.now < deadline else {
                    throw PostdeskTestError(
                        "no request \(round); smtpd log: \(servers.smtpdLog)\n\(desk.serverLog.suffix(3000))")
                }
                try await Task.sleep(for: .milliseconds(2))
            }
            latencies.append(clock.now - sent)
        }
        print("LMTP e2e: SMTP send to OpenSMTPD -> request visible on the admin socket: \(latencies)")
        let first = try desk.json(RequestJSON.self, ["request", "show", "SD-1"])
        #expect(first.summary == "Printer 1" && first.reporter == alice)
        #expect(first.description == "The printer shows error E42.")

        // 2. An address no channel has: postdesk refuses it at RCPT (550 5.1.1) and stores nothing.
        let stranger = "nobody-\(tag)@\(Self.pushDomain)"
        let logBefore = try desk.json([LogRow].self, ["log"]).count
        try await Self.send(
            servers, Self.mail(from: alice, to: stranger, subject: "Lost", messageID: "lost-\(tag)@customer.test"),
            from: alice, to: [stranger])
        _ = try await desk.eventually("postdesk refusing \(stranger)") {
            desk.serverLog.contains("LMTP recipient refused") && desk.serverLog.contains(stranger) ? true : nil
        }
        // OpenSMTPD 6.8's mail.lmtp reports every LMTP error, 550 included, as a temporary failure: the mail stays
        // in its queue and is offered again on each retry, and postdesk refuses it again, storing nothing.
        _ = try await desk.eventually("OpenSMTPD logging the refusal") { () -> String? in
            let log = (try? String(contentsOfFile: servers.smtpdLog, encoding: .utf8)) ?? ""
            return log.contains("550 5.1.1 <\(stranger)>") ? log : nil
        }
        #expect(try servers.smtpctl(["show", "queue"]).contains(stranger))
        let refusals = desk.serverLog.components(separatedBy: "LMTP recipient refused").count
        try servers.smtpctl(["schedule", "all"])
        _ = try await desk.eventually("postdesk refusing the retry") {
            desk.serverLog.components(separatedBy: "LMTP recipient refused").count > refusals ? true : nil
        }
        #expect(try Self.queue(desk).count == 5)
        #expect(try desk.json([LogRow].self, ["log"]).count == logBefore)

        // 3. One mail to two addresses of one IMAP channel: Dovecot gets one copy (fetched by IMAP), postdesk's
        // listener the other (its extra address at push.test). One request, and the log names the duplicate.
        let sales = "sales-\(tag)@desk.test"
        let salesPush = "sales-\(tag)@\(Self.pushDomain)"
        try servers.addUser(sales, password: "secret")
        let passwordFile = desk.dataDirectory.appendingPathComponent("pw.txt")
        try "secret\n".write(to: passwordFile, atomically: true, encoding: .utf8)
        try desk.ok([
            "channel", "add", "SD", "--address", sales, "--extra-address", salesPush, "--protocol", "imap", "--host",
            "127.0.0.1", "--port", "\(servers.imapPort)", "--tls", "none", "--username", sales, "--password-file",
            passwordFile.path, "--request-type", "Get help",
        ])
        try await Self.send(
            servers,
            Self.mail(
                from: alice, to: "\(sales), \(salesPush)", subject: "Both ways", messageID: "both-\(tag)@customer.test"),
            from: alice, to: [sales, salesPush])
        let log = try await desk.eventually("the mail by IMAP and by LMTP") { () -> [LogRow]? in
            let rows = try desk.json([LogRow].self, ["log", "--channel", sales])
            return rows.contains { $0.outcome == "created" } && rows.contains { $0.outcome == "duplicate" } ? rows : nil
        }
        #expect(log.filter { $0.outcome == "created" }.count == 1, "\(log)")
        _ = try await servers.waitForMessages(1, in: sales, timeout: .seconds(10))
        try await Task.sleep(for: .seconds(2))
        #expect(try Self.queue(desk).filter { $0.summary == "Both ways" }.count == 1)
        try await desk.stop()
    }

    @Test("postdesk killed (kill -9) before OpenSMTPD delivers: the MTA keeps the mail, retries, it is stored once")
    func killAndRetry() async throws {
        let (servers, desk, _) = try await Self.start()
        defer { servers.stop() }
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "help-\(tag)@\(Self.pushDomain)"
        let alice = "alice-\(tag)@customer.test"
        try desk.ok(["channel", "add", "SD", "--address", help, "--protocol", "lmtp", "--request-type", "Get help"])

        try await desk.stop(signal: SIGKILL)
        try await Self.send(
            servers, Self.mail(from: alice, to: help, subject: "While down", messageID: "down-\(tag)@customer.test"),
            from: alice, to: [help])
        // OpenSMTPD finds nobody listening: a temporary failure, the mail stays queued.
        _ = try await desk.eventually("OpenSMTPD queueing the mail") { () -> String? in
            let queue = try servers.smtpctl(["show", "queue"])
            return queue.contains(help) ? queue : nil
        }

        try await desk.start()
        try servers.smtpctl(["schedule", "all"])
        let queue = try await desk.eventually("the retried mail as a request") { () -> [QueueRow]? in
            let rows = try Self.queue(desk)
            return rows.isEmpty ? nil : rows
        }
        #expect(queue.map(\.summary) == ["While down"])
        _ = try await desk.eventually("OpenSMTPD's queue empty") {
            try servers.smtpctl(["show", "queue"]).contains(help) ? nil : true
        }

        // A second retry (the 250 lost in a crash after the commit) is a duplicate, not a second request.
        try await Self.send(
            servers, Self.mail(from: alice, to: help, subject: "While down", messageID: "down-\(tag)@customer.test"),
            from: alice, to: [help])
        _ = try await desk.eventually("the second copy logged as a duplicate") {
            try desk.json([LogRow].self, ["log", "--channel", help]).contains { $0.outcome == "duplicate" } ? true : nil
        }
        #expect(try Self.queue(desk).count == 1)
        try await desk.stop()
    }
}
