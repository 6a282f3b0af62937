import Foundation
import GRDB
import Testing

@testable import ServiceDesk

/// Webhooks in the store: deliveries written by triggers in the change's own transaction, filtered by event,
/// project and activity, with a JSON snapshot of the state at the event.
@Suite("Webhook store")
struct WebhookStoreTests {
    /// A delivery's payload as JSON.
    static func payload(_ delivery: WebhookDelivery) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(delivery.payload.utf8)) as? [String: Any])
    }

    static func deliveries(_ store: DeskStore, webhook: Int64) async throws -> [WebhookDelivery] {
        Array(try await store.webhookDeliveries(webhookId: webhook, limit: 1000).reversed())
    }

    @Test(
        "a mailed request, a public comment and an assignment each write their delivery with the state at the event",
        arguments: StoreBackend.allCases)
    func payloadFields(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let (hook, secret) = try await store.addWebhook(
            url: "https://tickets.example.com/in", events: [], projectKey: nil)
        #expect(hook.events == [.requestCreated, .commentAdded, .requestUpdated])
        #expect(secret.hasPrefix("pdwh_") && secret.count > 40)

        _ = try await storeAndApply(store, channel: channel, intake(subject: "Printer \"3\"", body: "It is jammed."))
        var rows = try await Self.deliveries(store, webhook: hook.id)
        #expect(rows.map(\.event) == [.requestCreated])
        let created = try Self.payload(rows[0])
        #expect(created["event"] as? String == "request.created")
        let request = try #require(created["request"] as? [String: Any])
        #expect(request["key"] as? String == "SD-1")
        #expect(request["project"] as? String == "SD")
        #expect(request["requestType"] as? String == "Get help")
        #expect(request["status"] as? String == "Waiting for support")
        #expect(request["summary"] as? String == "Printer \"3\"")
        #expect(request["description"] as? String == "It is jammed.")
        #expect(request["reporter"] as? String == "alice@customer.test")
        #expect(request["assignee"] is NSNull)
        let occurred = try #require(created["occurredAt"] as? String)
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(iso.date(from: occurred) != nil, "\(occurred)")
        #expect(rows[0].status == .pending && rows[0].attempts == 0 && rows[0].nextAttemptAt <= Date())

        // A public comment: comment.added with the request as it was, then request.updated for its new status.
        let added = try await store.addAgentComment(
            requestKey: "SD-1", author: "bob@desk.test", body: "We are on it", isPublic: true)
        rows = try await Self.deliveries(store, webhook: hook.id)
        #expect(rows.map(\.event) == [.requestCreated, .commentAdded, .requestUpdated])
        let commented = try Self.payload(rows[1])
        let comment = try #require(commented["comment"] as? [String: Any])
        #expect((comment["id"] as? NSNumber)?.int64Value == added.comment.id)
        #expect(comment["author"] as? String == "bob@desk.test")
        #expect(comment["public"] as? Bool == true)
        #expect(comment["source"] as? String == "agent")
        #expect(comment["body"] as? String == "We are on it")
        #expect((commented["request"] as? [String: Any])?["status"] as? String == "Waiting for support")
        let updated = try Self.payload(rows[2])
        #expect((updated["request"] as? [String: Any])?["status"] as? String == "Waiting for customer")
        let changes = try #require(updated["changes"] as? [String: [String: Any]])
        #expect(Set(changes.keys) == ["status"])
        #expect(changes["status"]?["from"] as? String == "Waiting for support")
        #expect(changes["status"]?["to"] as? String == "Waiting for customer")

        // An internal comment says so; an assignment names the agent.
        _ = try await store.addAgentComment(requestKey: "SD-1", author: "bob@desk.test", body: "toner", isPublic: false)
        let bob = try await store.addAgent(email: "bob@desk.test", name: "Bob", role: .agent, passwordHash: nil)
        try await store.assignRequest(key: "SD-1", agentId: bob.id)
        rows = try await Self.deliveries(store, webhook: hook.id)
        #expect(rows.map(\.event).suffix(2) == [.commentAdded, .requestUpdated])
        #expect((try Self.payload(rows[3])["comment"] as? [String: Any])?["public"] as? Bool == false)
        let assigned = try Self.payload(rows[4])
        #expect((assigned["request"] as? [String: Any])?["assignee"] as? String == "bob@desk.test")
        let assignment = try #require(assigned["changes"] as? [String: [String: Any]])
        #expect(Set(assignment.keys) == ["assignee"])
        #expect(assignment["assignee"]?["from"] is NSNull)
        #expect(assignment["assignee"]?["to"] as? String == "bob@desk.test")
    }

    @Test(
        "a delivery is written in the change's transaction: a rolled-back change leaves none, a committed one has it",
        arguments: StoreBackend.allCases)
    func sameTransaction(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        _ = try await storeAndApply(store, channel: channel, intake())
        let (hook, _) = try await store.addWebhook(url: "https://tickets.example.com/in", events: [], projectKey: nil)
        let comment = """
            INSERT INTO comment (requestId, author, body, isPublic, source, createdAt)
            SELECT id, 'bob@desk.test', 'x', 1, 'agent', ? FROM request WHERE key = 'SD-1'
            """
        await #expect(throws: DeskError.self) {
            try await store.write { db in
                try db.execute(sql: comment, arguments: [Date()])
                try db.execute(sql: "UPDATE request SET status = 'Resolved' WHERE key = 'SD-1'")
                // The trigger wrote them inside this transaction…
                #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhookDelivery") == 2)
                throw DeskError(.invalid, "abort")
            }
        }
        // …and the rollback took them with the change.
        #expect(try await Self.deliveries(store, webhook: hook.id).isEmpty)
        #expect(try await store.request(key: "SD-1").comments.isEmpty)

        try await store.write { db in
            try db.execute(sql: comment, arguments: [Date()])
            try db.execute(sql: "UPDATE request SET status = 'Resolved' WHERE key = 'SD-1'")
        }
        #expect(try await Self.deliveries(store, webhook: hook.id).map(\.event) == [.commentAdded, .requestUpdated])
        // An update that changes none of the watched columns tells nothing.
        _ = try await store.write { db in
            try db.execute(
                sql: "UPDATE request SET status = status, updatedAt = ? WHERE key = 'SD-1'", arguments: [Date()])
        }
        #expect(try await Self.deliveries(store, webhook: hook.id).count == 2)
    }

    @Test(
        "a webhook gets only its project's events and only the events it asked for; an inactive one gets nothing",
        arguments: StoreBackend.allCases)
    func filters(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        _ = try await store.createProject(key: "HR", name: "HR", signup: .public)
        _ = try await store.addRequestType(
            projectKey: "HR", name: "Get help",
            fields: [
                RequestField(name: "summary", visible: true, required: true),
                RequestField(name: "description", visible: true, required: true),
            ])
        let hrChannel = try #require(
            try await store.linkChannel(
                draft(address: "hr@desk.test", project: "HR"), watermark: LinkWatermark(uidValidity: 1, uidNext: 1)
            ).id)
        let all = try await store.addWebhook(url: "https://a.example/in", events: [], projectKey: nil).webhook
        let sd = try await store.addWebhook(url: "https://b.example/in", events: [.requestCreated], projectKey: "sd")
            .webhook
        let hrComments = try await store.addWebhook(
            url: "https://c.example/in", events: [.commentAdded, .commentAdded], projectKey: "HR"
        ).webhook
        let off = try await store.addWebhook(url: "https://d.example/in", events: [], projectKey: nil).webhook
        #expect(sd.projectKey == "SD" && hrComments.events == [.commentAdded])
        try await store.setWebhookActive(id: off.id, false)

        _ = try await storeAndApply(store, channel: channel, intake(messageID: "sd1@customer.test"))
        _ = try await storeAndApply(store, channel: hrChannel, intake(messageID: "hr1@customer.test"))
        _ = try await store.addAgentComment(requestKey: "HR-1", author: "bob@desk.test", body: "x", isPublic: false)
        _ = try await store.addAgentComment(requestKey: "SD-1", author: "bob@desk.test", body: "y", isPublic: false)

        func keys(_ id: Int64) async throws -> [String] {
            try await Self.deliveries(store, webhook: id).map { delivery in
                let request = try Self.payload(delivery)["request"] as? [String: Any]
                return "\(delivery.event.rawValue) \(request?["key"] as? String ?? "?")"
            }
        }
        #expect(
            try await keys(all.id) == [
                "request.created SD-1", "request.created HR-1", "comment.added HR-1", "comment.added SD-1",
            ])
        #expect(try await keys(sd.id) == ["request.created SD-1"])
        #expect(try await keys(hrComments.id) == ["comment.added HR-1"])
        #expect(try await keys(off.id).isEmpty)
        #expect(try await store.webhooksWithDueDeliveries(now: Date()) == [all.id, sd.id, hrComments.id])

        // Removing a project's webhook takes its deliveries; an unknown project is refused.
        try await store.removeWebhook(id: sd.id)
        await #expect(throws: DeskError.self) { try await store.webhookDeliveries(webhookId: sd.id) }
        await #expect(throws: DeskError.self) {
            try await store.addWebhook(url: "https://e.example/in", events: [], projectKey: "NOPE")
        }
    }

    @Test(
        "the secret is sealed at rest, handed to the dispatcher opened, and only https or loopback http is taken",
        arguments: StoreBackend.allCases)
    func secretAndURL(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let (hook, secret) = try await store.addWebhook(url: "http://127.0.0.1:9/in", events: [], projectKey: nil)
        let stored = try await store.read { db in
            try Data.fetchOne(db, sql: "SELECT secret FROM webhook WHERE id = ?", arguments: [hook.id])
        }
        #expect(stored.map { !$0.isEmpty && !String(decoding: $0, as: UTF8.self).contains(secret) } == true)
        _ = try await storeAndApply(store, channel: channel, intake())
        let job = try #require(try await store.nextDueWebhookDelivery(webhookId: hook.id, now: Date()))
        #expect(job.secret == secret && job.url == "http://127.0.0.1:9/in" && job.delivery.event == .requestCreated)

        for url in [
            "http://tickets.example.com/in", "ftp://127.0.0.1/x", "https://user:pw@example.com/", "/relative",
            "https://example.com/#frag",
        ] {
            await #expect(throws: DeskError.self, "\(url)") {
                try await store.addWebhook(url: url, events: [], projectKey: nil)
            }
        }
        for url in ["https://tickets.example.com/in?x=1", "http://localhost:8080/", "http://[::1]:8080/h"] {
            _ = try await store.addWebhook(url: url, events: [], projectKey: nil)
        }
    }

    @Test(
        "attempts are recorded like the outbox's: sent, retried later, failed; only failed ones can be retried",
        arguments: StoreBackend.allCases)
    func lifecycle(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let (hook, _) = try await store.addWebhook(url: "https://a.example/in", events: [], projectKey: nil)
        _ = try await storeAndApply(store, channel: channel, intake(messageID: "1@c"))
        _ = try await storeAndApply(store, channel: channel, intake(subject: "Second", messageID: "2@c"))
        let ids = try await Self.deliveries(store, webhook: hook.id).compactMap(\.id)
        #expect(ids.count == 2)
        let now = Date()

        // The first waits a minute after a 503; the second is due next, then none until the minute passes.
        try await store.markWebhookAttemptFailed(
            id: ids[0], responseCode: 503, response: String(repeating: "x", count: 900),
            retryAt: now.addingTimeInterval(60))
        let next = try await store.nextDueWebhookDelivery(webhookId: hook.id, now: now)
        #expect(next?.delivery.id == ids[1])
        try await store.markWebhookDelivered(id: ids[1], responseCode: 204, response: "")
        #expect(try await store.nextDueWebhookDelivery(webhookId: hook.id, now: now) == nil)
        #expect(try await store.webhooksWithDueDeliveries(now: now).isEmpty)
        #expect(try await store.nextDueWebhookDelivery(webhookId: hook.id, now: now + 61)?.delivery.id == ids[0])

        var first = try #require(try await store.webhookDelivery(id: ids[0]))
        #expect(first.status == .pending && first.attempts == 1 && first.responseCode == 503)
        #expect(first.lastResponse?.count == 500, "the first 500 characters are kept")
        let second = try #require(try await store.webhookDelivery(id: ids[1]))
        #expect(second.status == .sent && second.attempts == 1 && second.sentAt != nil && second.responseCode == 204)

        await #expect(throws: DeskError.self) { try await store.retryWebhookDelivery(id: ids[1]) }
        await #expect(throws: DeskError.self) { try await store.retryWebhookDelivery(id: ids[0]) }
        try await store.markWebhookAttemptFailed(id: ids[0], responseCode: 410, response: "gone", retryAt: nil)
        #expect(try await store.webhooks().first?.failed == 1)
        try await store.retryWebhookDelivery(id: ids[0], now: now)
        first = try #require(try await store.webhookDelivery(id: ids[0]))
        #expect(first.status == .pending && first.attempts == 0 && first.lastResponse == "gone")
        #expect(try await store.nextDueWebhookDelivery(webhookId: hook.id, now: now)?.delivery.id == ids[0])
        await #expect(throws: DeskError.self) { try await store.retryWebhookDelivery(id: 999) }
        let counts = try #require(try await store.webhooks().first)
        #expect(counts.pending == 1 && counts.failed == 0)
    }
}
