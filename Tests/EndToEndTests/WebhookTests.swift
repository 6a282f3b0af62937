import Foundation
import MailServerHarness
import Testing
import WebhookTestReceiver

/// Outbound webhooks through the real binary: a mail taken from real Dovecot and an agent's comment by the CLI
/// reach an HTTP receiver on 127.0.0.1 as signed `request.created` and `comment.added` POSTs.
@Suite("Outbound webhooks, end to end", .serialized, .timeLimit(.minutes(6)))
struct WebhookTests {
    /// One POST as the receiver got it.
    struct Post: Sendable {
        var event: String
        var signature: String
        var body: Data

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    struct Created: Decodable {
        struct Hook: Decodable { var id: Int64 }
        var webhook: Hook
        var secret: String
    }

    struct Listed: Decodable {
        var id: Int64
        var active: Bool
    }

    struct Delivery: Decodable {
        var id: Int64
        var event: String
        var status: String
        var attempts: Int
        var responseCode: Int?
    }

    /// The POSTs the receiver got on /hook, in order.
    static func posts(_ receiver: WebhookReceiver) async -> [Post] {
        await receiver.log.received(on: "/hook").map {
            Post(
                event: $0.headers["x-postdesk-event"] ?? "", signature: $0.headers["x-postdesk-signature"] ?? "",
                body: Data($0.body))
        }
    }

    @Test("a mailed request arrives as request.created and an agent's CLI comment as comment.added, signed")
    func mailAndComment() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "help-\(tag)@desk.test"
        let alice = "alice-\(tag)@customer.test"
        try servers.addUser(help, password: "secret")
        let receiver = try await WebhookReceiver.start(["/hook": [.init(status: 204)]])
        let port = receiver.port

        let desk = try PostdeskProcess()
        try await desk.start()
        let passwordFile = desk.dataDirectory.appendingPathComponent("pw.txt")
        try "secret\n".write(to: passwordFile, atomically: true, encoding: .utf8)
        try desk.createProject("SD", name: "Service Desk", signup: "public")
        try desk.ok([
            "channel", "add", "SD", "--address", help, "--protocol", "imap", "--host", "127.0.0.1", "--port",
            "\(servers.imapPort)", "--tls", "none", "--username", help, "--password-file", passwordFile.path,
            "--request-type", "Help",
        ])
        #expect(try desk.run(["webhook", "add", "http://192.0.2.1/hook"]).status != 0, "plain http off this machine")
        let created = try desk.json(
            Created.self,
            [
                "webhook", "add", "http://127.0.0.1:\(port)/hook", "--event", "request.created", "--event",
                "comment.added", "--project", "SD",
            ])
        #expect(created.secret.hasPrefix("pdwh_"))
        #expect(!(try desk.ok(["webhook", "list"]).contains(created.secret)))
        // A receiver path that answers 404: refused for good, shown by status, sent again by retry.
        let broken = try desk.json(
            Created.self, ["webhook", "add", "http://127.0.0.1:\(port)/missing", "--event", "request.created"])

        let mail = """
            From: Alice <\(alice)>\r
            To: \(help)\r
            Subject: Printer on floor 3 is jammed\r
            Message-ID: <first-\(tag)@customer.test>\r
            \r
            The printer shows error E42.\r

            """
        try servers.deliver(Array(mail.utf8), to: help)
        let request = try await Self.waitFor("request.created at the receiver", desk) {
            await Self.posts(receiver).first { $0.event == "request.created" }
        }
        let fields = try #require(request.json["request"] as? [String: Any])
        #expect(fields["key"] as? String == "SD-1")
        #expect(fields["summary"] as? String == "Printer on floor 3 is jammed")
        #expect(fields["reporter"] as? String == alice)
        #expect(request.signature.hasPrefix("sha256=") && request.signature.count == 7 + 64)
        let refused = try await desk.eventually("the 404 recorded", timeout: Self.deliveryWait) {
            try desk.json([Delivery].self, ["webhook", "deliveries", "\(broken.webhook.id)"]).first {
                $0.status == "failed"
            }
        }
        #expect(refused.responseCode == 404 && refused.attempts == 1)
        #expect(try desk.ok(["status"]).contains("Webhooks: 1 with failed deliveries (\(broken.webhook.id))"))
        #expect(try desk.ok(["webhook", "retry", "\(refused.id)"]).contains("pending again"))
        _ = try await desk.eventually("the retry refused again", timeout: Self.deliveryWait) {
            let rows = try desk.json([Delivery].self, ["webhook", "deliveries", "\(broken.webhook.id)"])
            return rows.first.flatMap { $0.status == "failed" && $0.attempts == 1 ? $0 : nil }
        }
        #expect(try desk.run(["webhook", "retry", "\(refused.id + 100)"]).status != 0)
        #expect(try desk.ok(["webhook", "disable", "\(broken.webhook.id)"]).contains("is disabled: no new deliveries"))
        let listed = try desk.json([Listed].self, ["webhook", "list"])
        #expect(listed.first { $0.id == broken.webhook.id }?.active == false)
        #expect(try desk.ok(["webhook", "enable", "\(broken.webhook.id)"]).contains("is enabled."))
        #expect(try desk.run(["webhook", "disable", "\(broken.webhook.id + 100)"]).status != 0)
        try desk.ok(["webhook", "remove", "\(broken.webhook.id)"])
        #expect(!(try desk.ok(["status"]).contains("Webhooks:")))

        try desk.ok(["request", "comment", "SD-1", "--author", "agent@desk.test", "--body", "We are on it"])
        let comment = try await Self.waitFor("comment.added at the receiver", desk) {
            await Self.posts(receiver).first { $0.event == "comment.added" }
        }
        let body = try #require(comment.json["comment"] as? [String: Any])
        #expect(body["body"] as? String == "We are on it")
        #expect(body["author"] as? String == "agent@desk.test")
        #expect((comment.json["request"] as? [String: Any])?["key"] as? String == "SD-1")
        // request.updated (the status the comment set) was not asked for.
        #expect(await Self.posts(receiver).map(\.event) == ["request.created", "comment.added"])

        let deliveries = try await desk.eventually("both deliveries recorded as sent", timeout: Self.deliveryWait) {
            let rows = try desk.json([Delivery].self, ["webhook", "deliveries", "\(created.webhook.id)"])
            return rows.count == 2 && rows.allSatisfy { $0.status == "sent" } ? rows : nil
        }
        #expect(deliveries.map(\.event) == ["comment.added", "request.created"])
        #expect(deliveries.allSatisfy { $0.attempts == 1 && $0.responseCode == 204 })
        #expect(!desk.serverLog.contains(created.secret))
        try desk.ok(["webhook", "remove", "\(created.webhook.id)"])
        try await desk.stop()
        await receiver.stop()
    }

    /// How long a wait for a delivery may take: past one retry of the dispatcher (30 s). On a loaded machine the first
    /// attempt can time out, since the receiver answers on the test process's cooperative threads, which the other
    /// suites' synchronous CLI runs keep busy; the retry then delivers, which is what the dispatcher is for.
    static let deliveryWait: Duration = .seconds(75)

    /// Polls `condition` until it gives a value, for at most `deliveryWait`.
    static func waitFor<T>(_ what: String, _ desk: PostdeskProcess, _ condition: () async throws -> T?) async throws
        -> T
    {
        let deadline = ContinuousClock.now + deliveryWait
        while ContinuousClock.now < deadline {
            if let value = try await condition() { return value }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PostdeskTestError("timed out waiting for \(what); server log:\n\(desk.serverLog.suffix(4000))")
    }
}
