import Foundation
import PostgresStore
import Testing

@testable import ServiceDesk

/// Two nodes' stores on one real PostgreSQL deciding mail of one project at the same moment: request numbers from
/// the project's counter under its row lock, customers and participants by unique keys, and the serializable
/// transactions that run again on a conflict, so that neither node fails and no mail is lost or taken twice.
@Suite("Two nodes writing one desk at once")
struct ConcurrentNodesTests {
    static func mail(_ index: Int, from sender: String) -> [UInt8] {
        Array(
            """
            Message-ID: <concurrent-\(index)@customer.test>\r
            From: \(sender)\r
            To: help@desk.test\r
            Subject: Request \(index)\r
            \r
            Mail \(index).\r

            """.utf8)
    }

    /// Project SD with a request type fit for email and the channel help@desk.test, made through `store`; its id.
    static func prepare(_ store: DeskStore) async throws -> Int64 {
        _ = try await store.createProject(key: "SD", name: "Service Desk", signup: .public)
        _ = try await store.addRequestType(
            projectKey: "SD", name: "Get help",
            fields: [
                RequestField(name: "summary", visible: true, required: true),
                RequestField(name: "description", visible: true, required: true),
            ])
        return try #require(
            try await store.linkChannel(
                draft(address: "help@desk.test"), watermark: LinkWatermark(uidValidity: 7, uidNext: 1)
            ).id)
    }

    @Test("both nodes create requests of one project and the same new customers at once: distinct numbers, no loss")
    func numbersAndCustomers() async throws {
        let (first, second) = try await StoreBackend.postgresNodes()
        let channel = try await ConcurrentNodesTests.prepare(first)
        // 40 mails from 4 senders nobody knows yet; each node stores and decides half, interleaved in time.
        let senders = (0..<4).map { "customer\($0)@customer.test" }
        var stored: [(node: Int, id: Int64, raw: [UInt8])] = []
        for index in 0..<40 {
            let raw = Self.mail(index, from: senders[index % 4])
            let store = index % 2 == 0 ? first : second
            let id = try await store.receive(channelId: channel, raw: raw, mailboxUid: "\(index)").inboundId
            stored.append((index % 2, id, raw))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for entry in stored {
                let store = entry.node == 0 ? first : second
                group.addTask {
                    _ = try await store.process(MailReading(raw: entry.raw), inboundId: entry.id)
                }
            }
            try await group.waitForAll()
        }
        let queue = try await second.queue(projectKey: "SD")
        #expect(queue.count == 40)
        #expect(Set(queue.map(\.key)) == Set((1...40).map { "SD-\($0)" }))
        #expect(Set(queue.map(\.summary)).count == 40)
        #expect(try await first.customers(projectKey: "SD").map(\.address).sorted() == senders)

        // The same stored mail decided by both nodes at once: one request, and both answer it.
        let raw = Self.mail(99, from: senders[0])
        let id = try await first.receive(channelId: channel, raw: raw, mailboxUid: "99").inboundId
        async let one = first.process(MailReading(raw: raw), inboundId: id)
        async let other = second.process(MailReading(raw: raw), inboundId: id)
        let answers = try await [one, other]
        #expect(answers[0] == answers[1])
        #expect(try await first.queue(projectKey: "SD").count == 41)
    }
}

@Suite("Two notifiers sharing one outbox")
struct SharedOutboxTests {
    @Test("two nodes claiming due notifications at once get disjoint rows; a claim hides a row until it runs out")
    func disjointClaims() async throws {
        let (first, second) = try await StoreBackend.postgresNodes()
        let channel = try await ConcurrentNodesTests.prepare(first)
        _ = try await storeAndApply(first, channel: channel, intake())
        for index in 0..<6 {
            _ = try await first.addAgentComment(
                requestKey: "SD-1", author: "agent@desk.test", body: "comment \(index)", isPublic: true,
                recipientHourlyLimit: 100)
        }
        let now = Date()
        async let one = first.claimDueOutbox(now: now, limit: 3)
        async let other = second.claimDueOutbox(now: now, limit: 3)
        let (a, b) = try await (one, other)
        #expect(a.count == 3 && b.count == 3)
        #expect(Set(a.compactMap(\.id)).isDisjoint(with: Set(b.compactMap(\.id))))
        #expect(try await first.claimDueOutbox(now: now, limit: 10).isEmpty)
        // Past the claim (a node that died while it held them) the rows are due again.
        #expect(try await second.claimDueOutbox(now: now.addingTimeInterval(400), limit: 10).count == 6)
    }
}

@Suite("Text PostgreSQL cannot hold")
struct NULTextTests {
    @Test(
        "a mail whose subject and body carry NUL bytes becomes a request on both backends",
        arguments: StoreBackend.allCases)
    func nulInText(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let outcome = try await storeAndApply(
            store, channel: channel, intake(subject: "Printer\u{0}jammed", body: "It is\u{0} jammed."))
        #expect(outcome == .created("SD-1"))
        let detail = try await store.request(key: "SD-1")
        #expect(detail.request.summary.hasPrefix("Printer"))
        #expect(!detail.request.summary.contains("\u{0}") || backend == .sqlite)
    }
}

@Suite("Attachments kept in PostgreSQL")
struct DatabaseAttachmentTests {
    @Test("an attachment stored by one node is read by another, which caches it; its bytes are checked")
    func sharedThroughTheDatabase() async throws {
        let (node, other) = try await StoreBackend.postgresNodes()
        var first = node
        first.attachmentsInDatabase = true
        // Each node its own cache directory: nothing is shared but the database.
        var second = DeskStore(
            backend: other.backend, secrets: other.secrets,
            attachmentDirectory: FileManager.default.temporaryDirectory.appendingPathComponent(
                "postdesk-cache-\(UUID().uuidString)", isDirectory: true))
        second.attachmentsInDatabase = true
        let channel = try await ConcurrentNodesTests.prepare(first)
        let bytes = Data((0..<5000).map { UInt8($0 % 251) })
        let file = IncomingAttachment(
            filename: "log.bin", contentType: "application/octet-stream", isInline: false, data: Array(bytes))
        #expect(try await storeAndApply(first, channel: channel, intake(attachments: [file])) == .created("SD-1"))
        #expect(!FileManager.default.fileExists(atPath: first.attachmentDirectory.path), "no file is written")
        let stored = try #require(try await second.attachments(requestKey: "SD-1").first)
        #expect(try Data(contentsOf: URL(fileURLWithPath: stored.path)) == bytes)
        let console = try await second.consoleRequest(key: "SD-1")
        let id = try #require(console.attachments.first?.id)
        let (_, url) = try await second.attachment(id: id)
        #expect(try Data(contentsOf: url) == bytes)
    }
}

@Suite("Processing claims across nodes")
struct ProcessingClaimsTests {
    @Test("a mail one node attempts is left alone by the others until the attempt fails or its claim runs out")
    func claimsKeepOtherNodesAway() async throws {
        let (nodeA, nodeB) = try await StoreBackend.postgresNodes()
        var a = nodeA
        var b = nodeB
        a.processingClaims = InboundClaims(nodeName: "a", duration: .seconds(1))
        b.processingClaims = InboundClaims(nodeName: "b", duration: .seconds(1))
        let channel = try await ConcurrentNodesTests.prepare(a)
        let policy = IntakePolicy(maxAttempts: 3)
        let raw = ConcurrentNodesTests.mail(1, from: "carol@customer.test")
        let id = try await a.receive(channelId: channel, raw: raw, mailboxUid: "1").inboundId

        // a attempts it: b's sweep neither attempts it nor counts an attempt.
        #expect(try await a.claimForProcessing(inboundId: id, policy: policy)?.attempts == 1)
        #expect(try await b.claimForProcessing(inboundId: id, policy: policy) == nil)
        #expect(try await b.claimForProcessing(inboundIds: [id], policy: policy).isEmpty)
        #expect(try await b.inbound(id: id)?.attempts == 1)
        // Its own claim a takes again (the same node, or the node restarted under its name).
        #expect(try await a.claimForProcessing(inboundId: id, policy: policy)?.attempts == 2)
        // The attempt failed: the claim ends with it, and b may try at once; then a waits for b.
        try await a.recordAttemptFailure(inboundId: id, reason: "parser fell over", policy: policy)
        #expect(try await b.claimForProcessing(inboundId: id, policy: policy)?.attempts == 3)
        #expect(try await a.claimForProcessing(inboundId: id, policy: policy) == nil)
        // b died mid-attempt: once its claim runs out, a takes the mail, whose attempts are used up.
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await a.claimForProcessing(inboundId: id, policy: policy) == nil)
        let quarantined = try #require(try await a.inbound(id: id))
        #expect(quarantined.outcome == .failed)
        #expect(quarantined.detail?.contains("quarantined after 3 attempts") == true)

        // An admin's retry on b ends a's claim (taken by that last sweep) too, so b attempts it at once, and once.
        #expect(try await b.retryFailed(.id(id)) == [id])
        #expect(try await b.claimForProcessing(inboundId: id, policy: policy)?.attempts == 1)
        #expect(try await b.process(MailReading(raw: raw), inboundId: id) == .created("SD-1"))
        #expect(try await a.claimForProcessing(inboundIds: [id], policy: policy).isEmpty)
    }
}

@Suite("Two dispatchers sharing one webhook's deliveries")
struct SharedWebhookDeliveriesTests {
    @Test(
        "two nodes taking a webhook's due deliveries at once never get the same one; a claim hides it until it runs out"
    )
    func disjointClaims() async throws {
        let (first, second) = try await StoreBackend.postgresNodes()
        let channel = try await ConcurrentNodesTests.prepare(first)
        let (hook, _) = try await first.addWebhook(url: "https://tickets.example.com/in", events: [], projectKey: nil)
        // Three mailed requests: three request.created deliveries, all due now.
        for index in 0..<3 {
            _ = try await storeAndApply(
                first, channel: channel, intake(subject: "Printer \(index)", messageID: "hook\(index)@customer.test"))
        }
        let now = Date().addingTimeInterval(1)
        #expect(try await second.webhooksWithDueDeliveries(now: now) == [hook.id])
        // Both nodes' dispatchers ask for the next due one at the same moment, three times each.
        let jobs = try await withThrowingTaskGroup(of: WebhookJob?.self) { group in
            for index in 0..<6 {
                let store = index % 2 == 0 ? first : second
                group.addTask { try await store.nextDueWebhookDelivery(webhookId: hook.id, now: now) }
            }
            return try await group.reduce(into: [WebhookJob]()) { jobs, job in job.map { jobs.append($0) } }
        }
        let taken = jobs.compactMap(\.delivery.id)
        #expect(taken.count == 3 && Set(taken).count == 3)
        #expect(try await first.nextDueWebhookDelivery(webhookId: hook.id, now: now) == nil)
        // A node that dies holding a claim: past the claim its delivery is due again, for any node.
        let later = now.addingTimeInterval(DeskStore.claimDuration + 1)
        #expect(try await second.nextDueWebhookDelivery(webhookId: hook.id, now: later) != nil)
    }
}
