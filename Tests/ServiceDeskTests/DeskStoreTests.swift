import Foundation
import Testing

@testable import ServiceDesk

/// A store with project SD, a suitable request type and one linked channel, on `backend`.
func makeDesk(signup: SignupPolicy = .public, on backend: StoreBackend = .sqlite) async throws -> (DeskStore, Int64) {
    let store = try await backend.makeStore()
    _ = try await store.createProject(key: "SD", name: "Service Desk", signup: signup)
    _ = try await store.addRequestType(
        projectKey: "SD", name: "Get help",
        fields: [
            RequestField(name: "summary", visible: true, required: true),
            RequestField(name: "description", visible: true, required: true),
        ])
    let channel = try await store.linkChannel(
        draft(address: "help@desk.test"), watermark: LinkWatermark(uidValidity: 7, uidNext: 1))
    return (store, try #require(channel.id))
}

func draft(address: String, username: String? = nil, project: String = "SD", type: String = "Get help") -> ChannelDraft
{
    ChannelDraft(
        projectKey: project, address: address, protocol: .imap, host: "127.0.0.1", port: 10143, tls: .none,
        caFile: nil, username: username ?? address, password: "secret", requestTypeName: type)
}

func intake(
    from sender: String = "alice@customer.test", subject: String = "Printer jammed", body: String = "It is jammed.",
    messageID: String? = "m1@customer.test", references: [String] = [], reply: String? = nil,
    automatic: (header: String, reason: String)? = nil, copied: [String] = [],
    attachments: [IncomingAttachment] = [], notes: [String] = []
) -> MailReading {
    MailReading(
        senderAddress: sender, senderName: "Alice", subject: subject, summary: subject, description: body,
        commentText: reply ?? body, messageID: messageID, referencedMessageIDs: references, automatic: automatic,
        copied: copied, attachments: attachments, notes: notes)
}

/// Stores a mail with unique bytes (so it is never a duplicate) and processes the given reading of it.
func storeAndApply(
    _ store: DeskStore, channel: Int64, _ reading: MailReading, raw: String? = nil, policy: IntakePolicy = .init()
) async throws -> Disposition {
    let bytes = Array((raw ?? "Message-ID: <\(UUID().uuidString)@t>\r\nFrom: \(reading.senderAddress)\r\n\r\nx").utf8)
    let result = try await store.receive(channelId: channel, raw: bytes, mailboxUid: "1")
    guard case .stored(let id) = result else {
        Issue.record("expected a new inbound row, got \(result)")
        return .failed("duplicate")
    }
    return try await store.process(reading, inboundId: id, policy: policy)
}

@Suite("Desk store")
struct DeskStoreTests {
    @Test("a new mail creates request SD-1 with the sender as reporter", arguments: StoreBackend.allCases)
    func createsRequest(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let outcome = try await storeAndApply(store, channel: channel, intake())
        #expect(outcome == .created("SD-1"))
        let detail = try await store.request(key: "SD-1")
        #expect(detail.request.summary == "Printer jammed")
        #expect(detail.request.description == "It is jammed.")
        #expect(detail.request.reporter == "alice@customer.test")
        #expect(detail.request.status == .waitingForSupport)
        #expect(try await store.customers(projectKey: "SD").map(\.address) == ["alice@customer.test"])
    }

    @Test("request numbers count up per project", arguments: StoreBackend.allCases)
    func numbering(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        _ = try await storeAndApply(store, channel: channel, intake(messageID: "a@x"))
        let second = try await storeAndApply(store, channel: channel, intake(messageID: "b@x"))
        #expect(second == .created("SD-2"))
        #expect(try await store.queue(projectKey: "SD").map(\.key) == ["SD-2", "SD-1"])
    }

    @Test(
        "a public agent comment writes a notification to the outbox with a fixed Message-ID",
        arguments: StoreBackend.allCases)
    func agentCommentNotifies(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        _ = try await storeAndApply(store, channel: channel, intake())
        let result = try await store.addAgentComment(
            requestKey: "SD-1", author: "agent@desk.test", body: "We are on it", isPublic: true)
        let notification = try #require(result.notification)
        #expect(notification.recipients == ["alice@customer.test"])
        #expect(notification.status == .pending)
        let text = String(decoding: notification.raw, as: UTF8.self)
        #expect(text.contains("[SD-1]"))
        #expect(text.contains("Auto-Submitted: auto-generated"))
        #expect(text.contains("<\(notification.messageId)>"))
        #expect(text.contains("In-Reply-To: <m1@customer.test>"))
        #expect(try await store.request(key: "SD-1").request.status == .waitingForCustomer)
        #expect(try await store.dueOutbox(now: Date(), limit: 10).map(\.messageId) == [notification.messageId])
    }

    @Test("an internal comment is not sent", arguments: StoreBackend.allCases)
    func internalComment(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        _ = try await storeAndApply(store, channel: channel, intake())
        let result = try await store.addAgentComment(
            requestKey: "SD-1", author: "agent@desk.test", body: "Check the toner", isPublic: false)
        #expect(result.notification == nil)
        #expect(try await store.dueOutbox(now: Date(), limit: 10).isEmpty)
        #expect(try await store.request(key: "SD-1").comments.map(\.isPublic) == [false])
    }

    @Test(
        "a reply naming our notification's Message-ID becomes a comment and reopens the request",
        arguments: StoreBackend.allCases)
    func replyBecomesComment(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        _ = try await storeAndApply(store, channel: channel, intake())
        let sent = try #require(
            try await store.addAgentComment(requestKey: "SD-1", author: "agent@desk.test", body: "Hi", isPublic: true)
                .notification)
        let outcome = try await storeAndApply(
            store, channel: channel,
            intake(subject: "Re: Hello", messageID: "r1@customer.test", references: [sent.messageId], reply: "Thanks!"))
        #expect(outcome == .commented("SD-1"))
        let detail = try await store.request(key: "SD-1")
        #expect(detail.comments.last?.body == "Thanks!")
        #expect(detail.comments.last?.source == .email)
        #expect(detail.request.status == .waitingForSupport)
    }

    @Test("a request key in the subject threads a reply without references", arguments: StoreBackend.allCases)
    func keyInSubject(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        _ = try await storeAndApply(store, channel: channel, intake())
        let outcome = try await storeAndApply(
            store, channel: channel, intake(subject: "Re: [sd-1] Printer jammed", messageID: "x@y"))
        #expect(outcome == .commented("SD-1"))
    }

    @Test("a key of another project or an unknown key creates a new request", arguments: StoreBackend.allCases)
    func foreignKey(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        _ = try await storeAndApply(store, channel: channel, intake())
        #expect(
            try await storeAndApply(store, channel: channel, intake(subject: "[HR-1] x", messageID: "p@q"))
                == .created("SD-2"))
        #expect(
            try await storeAndApply(store, channel: channel, intake(subject: "[SD-99] x", messageID: "r@s"))
                == .created("SD-3"))
    }

    @Test(
        "mail from a non-customer under restricted signup creates nothing and says why",
        arguments: StoreBackend.allCases)
    func restricted(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(signup: .restricted, on: backend)
        let outcome = try await storeAndApply(
            store, channel: channel, intake(from: "eve@evil.test"))
        guard case .ignored(let reason) = outcome else {
            Issue.record("expected ignored, got \(outcome)")
            return
        }
        #expect(reason.contains("not a customer"))
        #expect(try await store.queue(projectKey: "SD").isEmpty)
        #expect(try await store.processingLog(channelAddress: nil, since: nil, limit: 10).first?.outcome == .ignored)
    }

    @Test("the store admits only customers under restricted signup", arguments: StoreBackend.allCases)
    func admits(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(signup: .restricted, on: backend)
        #expect(try await store.admission(sender: "alice@customer.test", channelId: channel) == .notCustomer)
        _ = try await store.addCustomer(projectKey: "SD", address: "Alice@Customer.test", name: "Alice")
        #expect(try await store.admission(sender: "alice@customer.test", channelId: channel) == .admitted)
    }

    @Test("automatic mail is ignored with the deciding header", arguments: StoreBackend.allCases)
    func automatic(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let outcome = try await storeAndApply(
            store, channel: channel, intake(automatic: ("Auto-Submitted", "auto-replied")))
        #expect(outcome == .ignored("auto-reply: Auto-Submitted (auto-replied)"))
    }

    @Test("mail from a linked channel address is a loop and ignored", arguments: StoreBackend.allCases)
    func loop(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let outcome = try await storeAndApply(store, channel: channel, intake(from: "help@desk.test"))
        guard case .ignored(let reason) = outcome else {
            Issue.record("expected ignored, got \(outcome)")
            return
        }
        #expect(reason.contains("loop"))
    }

    @Test("a re-fetched mail hits its dedupe key and is processed only once", arguments: StoreBackend.allCases)
    func dedupe(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let raw = Array("Message-ID: <same@x>\r\n\r\nhello".utf8)
        let first = try await store.receive(channelId: channel, raw: raw, mailboxUid: "5")
        guard case .stored(let id) = first else {
            Issue.record("first store should be new")
            return
        }
        // Stored but not processed yet: the mailbox hands it to the router again.
        #expect(try await store.receive(channelId: channel, raw: raw, mailboxUid: "6") == .pending(id))
        #expect(try await store.process(intake(messageID: "same@x"), inboundId: id) == .created("SD-1"))
        #expect(try await store.process(intake(messageID: "same@x"), inboundId: id) == .created("SD-1"))
        #expect(try await store.receive(channelId: channel, raw: raw, mailboxUid: "7") == .duplicate(id))
        #expect(try await store.queue(projectKey: "SD").count == 1)
        let log = try await store.processingLog(channelAddress: nil, since: nil, limit: 10)
        #expect(log.filter { $0.outcome == .duplicate }.count == 2)
        // The same UID again is a re-fetch after a crash, not a duplicate to log.
        #expect(try await store.receive(channelId: channel, raw: raw, mailboxUid: "5") == .duplicate(id))
        #expect(try await store.processingLog(channelAddress: nil, since: nil, limit: 10).count == 3)
    }

    @Test(
        "an address can be linked to only one project, and an alias of the same account is refused",
        arguments: StoreBackend.allCases)
    func oneAddressOneProject(backend: StoreBackend) async throws {
        let (store, _) = try await makeDesk(on: backend)
        _ = try await store.createProject(key: "HR", name: "HR", signup: .public)
        _ = try await store.addRequestType(
            projectKey: "HR", name: "Ask",
            fields: [
                RequestField(name: "summary", visible: true, required: true),
                RequestField(name: "description", visible: true, required: false),
            ])
        await #expect(throws: DeskError.self) {
            try await store.validate(draft(address: "HELP@desk.test", project: "HR", type: "Ask"))
        }
        do {
            try await store.validate(
                draft(address: "help2@desk.test", username: "help@desk.test", project: "HR", type: "Ask"))
            Issue.record("an alias of a linked account was accepted")
        } catch let error as DeskError {
            #expect(error.code == .conflict)
            #expect(error.message.contains("already linked"))
        }
    }

    @Test("gmail dots and +tags name the same account")
    func gmailAccount() {
        #expect(
            AddressNormalizer.accountKey(host: "imap.gmail.com", username: "j.smith+desk@gmail.com")
                == AddressNormalizer.accountKey(host: "imap.gmail.com", username: "jsmith@gmail.com"))
    }

    @Test(
        "a request type needs visible summary and description and nothing else required",
        arguments: [
            ([("summary", true, true), ("description", true, true)], nil as String?),
            ([("summary", true, true)], "no description field"),
            ([("summary", true, true), ("description", false, false)], "is not visible"),
            ([("summary", true, true), ("description", true, true), ("priority", true, true)], "is required"),
        ] as [([(String, Bool, Bool)], String?)])
    func suitability(fields: [(String, Bool, Bool)], problem: String?) {
        let type = RequestType(
            id: nil, projectId: 1, name: "T",
            fields: fields.map { RequestField(name: $0.0, visible: $0.1, required: $0.2) })
        if let problem {
            #expect(type.unsuitability?.contains(problem) == true)
        } else {
            #expect(type.unsuitability == nil)
        }
    }

    @Test(
        "an unsuitable request type cannot be used for a channel; the error names it", arguments: StoreBackend.allCases)
    func unsuitableChannel(backend: StoreBackend) async throws {
        let (store, _) = try await makeDesk(on: backend)
        _ = try await store.addRequestType(
            projectKey: "SD", name: "Internal", fields: [RequestField(name: "summary", visible: true, required: true)])
        do {
            try await store.validate(draft(address: "other@desk.test", type: "Internal"))
            Issue.record("unsuitable type accepted")
        } catch let error as DeskError {
            #expect(error.code == .unsuitableRequestType)
            #expect(error.message.contains("\"Internal\""))
        }
    }

    @Test("secrets are sealed at rest and open again")
    func secrets() throws {
        let box = SecretBox()
        let sealed = try box.seal("p@ss\"word")
        #expect(!String(decoding: sealed, as: UTF8.self).contains("p@ss"))
        #expect(try box.open(sealed) == "p@ss\"word")
        #expect(throws: DeskError.self) { try SecretBox().open(sealed) }
    }

    @Test("project keys are validated", arguments: StoreBackend.allCases)
    func projectKeys(backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        await #expect(throws: DeskError.self) { try await store.createProject(key: "1X", name: "x", signup: .public) }
        await #expect(throws: DeskError.self) { try await store.createProject(key: "S-D", name: "x", signup: .public) }
        _ = try await store.createProject(key: "sd", name: "x", signup: .public)
        await #expect(throws: DeskError.self) { try await store.createProject(key: "SD", name: "y", signup: .public) }
    }

    @Test("a failed notification is retried later or given up", arguments: StoreBackend.allCases)
    func outboxRetry(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        _ = try await storeAndApply(store, channel: channel, intake())
        let sent = try #require(
            try await store.addAgentComment(requestKey: "SD-1", author: "a@desk.test", body: "Hi", isPublic: true)
                .notification?.id)
        let later = Date().addingTimeInterval(60)
        try await store.markAttemptFailed(outboxId: sent, reply: "421 try later", retryAt: later)
        #expect(try await store.dueOutbox(now: Date(), limit: 10).isEmpty)
        #expect(try await store.dueOutbox(now: later.addingTimeInterval(1), limit: 10).first?.attempts == 1)
        try await store.markSent(outboxId: sent, reply: "250 ok")
        #expect(try await store.outbox(requestKey: "SD-1").first?.status == .sent)
    }
}

@Suite("Request keys in subjects")
struct RequestKeyScannerTests {
    @Test(
        "keys are found only in brackets and only for the project",
        arguments: [
            ("Re: [SD-12] Printer", ["SD-12"]),
            ("[sd-3] lower case", ["SD-3"]),
            ("SD-12 without brackets", []),
            ("[SD-] empty", []),
            ("[SDX-1] other project", []),
            ("[SD-1][SD-2]", ["SD-1", "SD-2"]),
            ("[SD-12345678901] too long", []),
        ])
    func scan(subject: String, keys: [String]) {
        #expect(RequestKeyScanner.keys(in: subject, projectKey: "SD") == keys)
    }
}

/// A node's fence that holds no lease at all: every fenced commit is refused.
struct RefusingFence: IntakeFence {
    func check(channelId: Int64, in db: any SQLSession) throws {
        throw FencedOut(channelId: channelId, reason: "it holds no lease on it")
    }
}

@Suite("Watermark after a UIDVALIDITY change")
struct WatermarkMoveTests {
    static func watermark(_ store: DeskStore) async throws -> (Int64?, Int64?) {
        let channel = try #require(try await store.channels().first?.channel)
        return (channel.uidValidity, channel.uidNextAtLink)
    }

    @Test(
        "a new UIDVALIDITY's watermark is saved once; a node whose fence refuses saves nothing",
        arguments: StoreBackend.allCases)
    func movesOnce(backend: StoreBackend) async throws {
        var (store, channel) = try await makeDesk(on: backend)
        #expect(try await store.moveWatermark(channelId: channel, uidValidity: 9, uidNext: 40))
        // Another session under the same UIDVALIDITY moves nothing: the watermark counts from the first one.
        #expect(try await store.moveWatermark(channelId: channel, uidValidity: 9, uidNext: 41) == false)
        var (validity, uidNext) = try await Self.watermark(store)
        #expect(validity == 9 && uidNext == 40)

        store.intakeFence = RefusingFence()
        await #expect(throws: FencedOut.self) {
            try await store.moveWatermark(channelId: channel, uidValidity: 10, uidNext: 5)
        }
        (validity, uidNext) = try await Self.watermark(store)
        #expect(validity == 9 && uidNext == 40)
    }
}
