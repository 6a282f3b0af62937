import Crypto
import Foundation
import Logging
import ServiceLifecycle
import Testing
import WebhookTestReceiver

@testable import EmailChannel
@testable import ServiceDesk

/// A desk with project SD and a channel, whose mails become requests through the real router.
struct WebhookDesk {
    let store: DeskStore
    let channel: Int64

    init() async throws {
        store = try DeskStore.inMemory()
        try await makeServiceDeskProject(in: store, signup: .public)
        let linked = try await store.linkChannel(
            ChannelDraft(
                projectKey: "SD", address: "help@desk.test", protocol: .imap, host: "127.0.0.1", port: 1, tls: .none,
                caFile: nil, username: "help@desk.test", password: "x", requestTypeName: "Get help"),
            watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
        channel = try #require(linked.id)
    }

    /// A customer's mail, taken in and processed: a new request.
    func mail(_ subject: String) async throws {
        let raw =
            "From: alice@customer.test\r\nTo: help@desk.test\r\nSubject: \(subject)\r\nMessage-ID: <\(UUID().uuidString)@customer.test>\r\n\r\nBroken.\r\n"
        _ = try await store.receive(channelId: channel, raw: Array(raw.utf8), mailboxUid: nil)
        try await RequestRouter(store: store, logger: Logger(label: "t")).drainPending()
    }

    /// Runs a dispatcher for the length of `body`, then shuts it down gracefully.
    func withDispatcher<T: Sendable>(
        _ configuration: WebhookDispatcher.Configuration, _ body: () async throws -> T
    ) async throws -> T {
        let dispatcher = WebhookDispatcher(store: store, configuration: configuration, logger: Logger(label: "t"))
        let group = ServiceGroup(services: [dispatcher], gracefulShutdownSignals: [], logger: Logger(label: "t"))
        let running = Task { try await group.run() }
        do {
            let result = try await body()
            await group.triggerGracefulShutdown()
            try await running.value
            return result
        } catch {
            running.cancel()
            _ = await running.result
            throw error
        }
    }

    /// Polls `check` every 50 ms until it gives a value, for at most `timeout`.
    func eventually<T>(
        _ what: String, timeout: Duration = .seconds(10), _ check: () async throws -> T?
    ) async throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if let value = try await check() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }

    /// The first delivery of `webhook` once `done` holds for it.
    func delivery(of webhook: Int64, _ what: String, where done: @escaping (WebhookDelivery) -> Bool) async throws
        -> WebhookDelivery
    {
        try await eventually(what) {
            try await store.webhookDeliveries(webhookId: webhook).last.flatMap { done($0) ? $0 : nil }
        }
    }
}

@Suite("Webhook dispatcher against a real HTTP receiver", .serialized, .timeLimit(.minutes(2)))
struct WebhookDispatcherTests {
    /// Quick retries, so that a test sees them.
    static let fast = WebhookDispatcher.Configuration(
        policy: RetryPolicy(base: .milliseconds(200), maximum: .seconds(1), maxAttempts: 3, jitter: 0),
        timeout: .seconds(3), pollInterval: .milliseconds(100))

    @Test("a delivery is POSTed with its event, id and timestamp, signed with HMAC-SHA256 of timestamp.body")
    func signed() async throws {
        let receiver = try await WebhookReceiver.start(["/ok": [.init(status: 200, body: "thanks")]])
        let desk = try await WebhookDesk()
        let (hook, secret) = try await desk.store.addWebhook(url: receiver.url("/ok"), events: [], projectKey: nil)
        let sent = try await desk.withDispatcher(Self.fast) {
            try await desk.mail("Printer jammed")
            return try await desk.delivery(of: hook.id, "the delivery sent") { $0.status == .sent }
        }
        let calls = await receiver.log.received(on: "/ok")
        await receiver.stop()
        #expect(calls.count == 1)
        let call = try #require(calls.first)
        #expect(call.headers["content-type"] == "application/json")
        #expect(call.headers["x-postdesk-event"] == "request.created")
        #expect(call.headers["x-postdesk-delivery"] == sent.id.map { String($0) })
        #expect(String(decoding: call.body, as: UTF8.self) == sent.payload)
        let timestamp = try #require(call.headers["x-postdesk-timestamp"].flatMap { Int64($0) })
        #expect(abs(Double(timestamp) - Date().timeIntervalSince1970) < 30)
        // The receiver's side, computed here with the secret alone.
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("\(timestamp).".utf8) + call.body, using: SymmetricKey(data: Data(secret.utf8)))
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        #expect(call.headers["x-postdesk-signature"] == "sha256=" + hex)
        #expect(
            WebhookSignature.verify(
                header: "sha256=" + hex, body: call.body, timestamp: timestamp, secret: secret))
        #expect(
            !WebhookSignature.verify(header: "sha256=" + hex, body: call.body, timestamp: timestamp + 1, secret: secret)
        )
        #expect(!WebhookSignature.verify(header: "sha256=" + hex, body: call.body, timestamp: timestamp, secret: "x"))
        #expect(sent.attempts == 1 && sent.responseCode == 200 && sent.lastResponse == "thanks")
        let payload = try #require(JSONSerialization.jsonObject(with: Data(call.body)) as? [String: Any])
        #expect((payload["request"] as? [String: Any])?["summary"] as? String == "Printer jammed")
    }

    @Test("a 500 then a 200 is retried with the same body and id, and recorded as sent after 2 attempts")
    func retriedThenSent() async throws {
        let receiver = try await WebhookReceiver.start([
            "/flaky": [.init(status: 500, body: "database down"), .init(status: 200, body: "ok")]
        ])
        let desk = try await WebhookDesk()
        let (hook, _) = try await desk.store.addWebhook(url: receiver.url("/flaky"), events: [], projectKey: nil)
        let sent = try await desk.withDispatcher(Self.fast) {
            try await desk.mail("Printer jammed")
            let failedOnce = try await desk.delivery(of: hook.id, "the first attempt") { $0.attempts >= 1 }
            #expect(
                failedOnce.status == .sent
                    || (failedOnce.responseCode == 500 && failedOnce.lastResponse == "database down"))
            return try await desk.delivery(of: hook.id, "the retry sent") { $0.status == .sent }
        }
        let calls = await receiver.log.received(on: "/flaky")
        await receiver.stop()
        #expect(sent.attempts == 2 && sent.responseCode == 200 && sent.lastResponse == "ok")
        #expect(calls.count == 2)
        #expect(calls.map(\.body) == [Array(sent.payload.utf8), Array(sent.payload.utf8)])
        #expect(Set(calls.compactMap { $0.headers["x-postdesk-delivery"] }) == [sent.id.map { String($0) } ?? ""])
    }

    @Test("a 410 fails for good at once; a 503 for ever and a redirect (not followed) fail when the policy runs out")
    func failures() async throws {
        #expect(WebhookDispatcher.Verdict(statusCode: 204) == .delivered)
        #expect(WebhookDispatcher.Verdict(statusCode: 404) == .refused)
        #expect(WebhookDispatcher.Verdict(statusCode: 408) == .retry)
        #expect(WebhookDispatcher.Verdict(statusCode: 429) == .retry)
        #expect(WebhookDispatcher.Verdict(statusCode: 301) == .retry)
        #expect(WebhookDispatcher.Verdict(statusCode: 503) == .retry)

        let receiver = try await WebhookReceiver.start([
            "/gone": [.init(status: 410, body: "gone for good")], "/down": [.init(status: 503, body: "later")],
            "/moved": [.init(status: 302, location: "/elsewhere")], "/elsewhere": [.init(status: 200)],
        ])
        let desk = try await WebhookDesk()
        let gone = try await desk.store.addWebhook(url: receiver.url("/gone"), events: [], projectKey: nil).webhook
        let down = try await desk.store.addWebhook(url: receiver.url("/down"), events: [], projectKey: nil).webhook
        let moved = try await desk.store.addWebhook(url: receiver.url("/moved"), events: [], projectKey: nil).webhook
        var policy = Self.fast
        policy.policy = RetryPolicy(base: .milliseconds(100), maximum: .milliseconds(100), maxAttempts: 2, jitter: 0)
        let (refused, exhausted, redirected) = try await desk.withDispatcher(policy) {
            try await desk.mail("Printer jammed")
            let refused = try await desk.delivery(of: gone.id, "the 410 recorded") { $0.status == .failed }
            let exhausted = try await desk.delivery(of: down.id, "the 503s given up") { $0.status == .failed }
            let redirected = try await desk.delivery(of: moved.id, "the redirects given up") { $0.status == .failed }
            // Nothing more is sent for any of them.
            try await Task.sleep(for: .milliseconds(500))
            return (refused, exhausted, redirected)
        }
        let goneCalls = await receiver.log.received(on: "/gone").count
        let downCalls = await receiver.log.received(on: "/down").count
        let movedCalls = await receiver.log.received(on: "/moved").count
        let elsewhere = await receiver.log.received(on: "/elsewhere").count
        await receiver.stop()
        #expect(refused.attempts == 1 && refused.responseCode == 410 && refused.lastResponse == "gone for good")
        #expect(goneCalls == 1)
        #expect(exhausted.attempts == 3 && exhausted.responseCode == 503, "1 attempt and 2 retries")
        #expect(downCalls == 3)
        #expect(redirected.attempts == 3 && redirected.responseCode == 302 && movedCalls == 3 && elsewhere == 0)
        #expect(
            redirected.lastResponse?.hasPrefix("302 redirect to /elsewhere, not followed") == true,
            "\(redirected.lastResponse ?? "")")
        #expect(try await desk.store.webhooks().map(\.failed) == [1, 1, 1])
    }

    @Test("a receiver that hangs holds only its own webhook: another one's delivery goes out meanwhile")
    func hangingReceiver() async throws {
        let receiver = try await WebhookReceiver.start([
            "/hang": [.init(status: 200, delay: .seconds(60))], "/ok": [.init(status: 200)],
        ])
        let desk = try await WebhookDesk()
        let hang = try await desk.store.addWebhook(url: receiver.url("/hang"), events: [], projectKey: nil).webhook
        let ok = try await desk.store.addWebhook(url: receiver.url("/ok"), events: [], projectKey: nil).webhook
        var configuration = Self.fast
        configuration.policy = RetryPolicy(base: .seconds(60), maximum: .seconds(60), jitter: 0)
        configuration.timeout = .seconds(2)
        let clock = ContinuousClock()
        let (elapsed, stuck, inFlight, timedOut) = try await desk.withDispatcher(configuration) {
            let start = clock.now
            try await desk.mail("First")
            try await desk.mail("Second")
            _ = try await desk.eventually("both of /ok's deliveries sent") {
                let rows = try await desk.store.webhookDeliveries(webhookId: ok.id)
                return rows.count == 2 && rows.allSatisfy { $0.status == .sent } ? rows : nil
            }
            let elapsed = start.duration(to: clock.now)
            let stuck = try await desk.store.webhookDeliveries(webhookId: hang.id)
            let inFlight = await receiver.log.received(on: "/hang").count
            let timedOut = try await desk.delivery(of: hang.id, "the hanging attempt timed out") { $0.attempts == 1 }
            return (elapsed, stuck, inFlight, timedOut)
        }
        await receiver.stop()
        #expect(elapsed < .seconds(2), "\(elapsed)")
        #expect(stuck.count == 2 && stuck.allSatisfy { $0.status == .pending && $0.attempts == 0 }, "still in flight")
        #expect(inFlight == 1, "one request in flight per webhook")
        #expect(timedOut.status == .pending && timedOut.responseCode == nil)
        #expect(timedOut.lastResponse == "no answer within the timeout", "\(timedOut.lastResponse ?? "")")
    }

    @Test("a webhook whose secret this key cannot open is left pending and does not stop another one")
    func unreadableSecret() async throws {
        let receiver = try await WebhookReceiver.start(["/ok": [.init(status: 200)]])
        let desk = try await WebhookDesk()
        let broken = try await desk.store.addWebhook(url: receiver.url("/ok"), events: [], projectKey: nil).webhook
        let ok = try await desk.store.addWebhook(url: receiver.url("/ok"), events: [], projectKey: nil).webhook
        // As after a restore with another data directory's key.
        try await desk.store.writeSQLite { db in
            try db.execute(
                sql: "UPDATE webhook SET secret = ? WHERE id = ?", arguments: [try SecretBox().seal("x"), broken.id])
        }
        let sent = try await desk.withDispatcher(Self.fast) {
            try await desk.mail("Printer jammed")
            let sent = try await desk.delivery(of: ok.id, "the other webhook's delivery") { $0.status == .sent }
            try await Task.sleep(for: .milliseconds(300))
            return sent
        }
        let stuck = try #require(try await desk.store.webhookDeliveries(webhookId: broken.id).first)
        let calls = await receiver.log.received(on: "/ok").count
        await receiver.stop()
        #expect(sent.attempts == 1)
        #expect(stuck.status == .pending && stuck.attempts == 0)
        #expect(calls == 1, "nothing unsigned was sent")
    }

    @Test("a graceful shutdown lets the request in flight finish and records it")
    func gracefulShutdown() async throws {
        let receiver = try await WebhookReceiver.start([
            "/slow": [.init(status: 200, body: "took a while", delay: .milliseconds(800))]
        ])
        let desk = try await WebhookDesk()
        let (hook, _) = try await desk.store.addWebhook(url: receiver.url("/slow"), events: [], projectKey: nil)
        try await desk.withDispatcher(Self.fast) {
            try await desk.mail("Printer jammed")
            _ = try await desk.eventually("the request in flight") {
                await receiver.log.received(on: "/slow").isEmpty ? nil : true
            }
        }
        // withDispatcher returned after the shutdown: the answer came in before it ended.
        let delivery = try #require(try await desk.store.webhookDeliveries(webhookId: hook.id).first)
        await receiver.stop()
        #expect(delivery.status == .sent && delivery.lastResponse == "took a while")
    }

    @Test("a plain http URL to another machine is refused when the webhook is added")
    func plainHTTPRefused() async throws {
        let desk = try await WebhookDesk()
        for url in ["http://tickets.example.com/hook", "http://10.0.0.5/hook", "http://[2001:db8::1]/hook"] {
            let error = await #expect(throws: DeskError.self) {
                try await desk.store.addWebhook(url: url, events: [], projectKey: nil)
            }
            #expect(error?.message.contains("plain http") == true, "\(url): \(error?.message ?? "")")
        }
        #expect(try await desk.store.webhooks().isEmpty)
    }
}
