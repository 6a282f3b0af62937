import Foundation
import Testing

@testable import ServiceDesk

@Suite("Customers, participants, attachments and the log")
struct CustomerRulesTests {
    @Test(
        "the block list wins over public signup; the allow list admits under restricted signup",
        arguments: StoreBackend.allCases)
    func allowAndBlock(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(signup: .restricted, on: backend)
        #expect(try await store.admission(sender: "bob@partner.test", channelId: channel) == .notCustomer)
        #expect(
            try await store.addCustomerRule(projectKey: "SD", kind: .allow, pattern: "Partner.test") == "@partner.test")
        #expect(try await store.admission(sender: "bob@partner.test", channelId: channel) == .admitted)
        _ = try await store.addCustomerRule(projectKey: "SD", kind: .block, pattern: "bob@partner.test")
        #expect(
            try await store.admission(sender: "bob@partner.test", channelId: channel) == .blocked("bob@partner.test"))
        #expect(try await store.admission(sender: "carol@partner.test", channelId: channel) == .admitted)
        try await store.removeCustomerRule(projectKey: "SD", kind: .block, pattern: "bob@partner.test")
        #expect(try await store.admission(sender: "bob@partner.test", channelId: channel) == .admitted)
        await #expect(throws: DeskError.self) {
            try await store.removeCustomerRule(projectKey: "SD", kind: .block, pattern: "nobody@x.test")
        }
        await #expect(throws: DeskError.self) {
            try await store.addCustomerRule(projectKey: "SD", kind: .allow, pattern: "a@b@c")
        }
    }

    @Test("a blocked sender's mail is ignored and the log names the block list entry", arguments: StoreBackend.allCases)
    func blockedMail(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        _ = try await store.addCustomerRule(projectKey: "SD", kind: .block, pattern: "spam.test")
        let outcome = try await storeAndApply(store, channel: channel, intake(from: "eve@spam.test"))
        guard case .ignored(let reason) = outcome else {
            Issue.record("expected ignored, got \(outcome)")
            return
        }
        #expect(reason.hasPrefix("blocked:"))
        #expect(reason.contains("@spam.test"))
    }

    @Test(
        "copied customers become participants and receive notifications; strangers under restricted signup do not",
        arguments: StoreBackend.allCases)
    func participants(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(signup: .restricted, on: backend)
        _ = try await store.addCustomer(projectKey: "SD", address: "alice@customer.test", name: nil)
        _ = try await store.addCustomer(projectKey: "SD", address: "bob@customer.test", name: nil)
        _ = try await storeAndApply(
            store, channel: channel,
            intake(copied: ["bob@customer.test", "eve@elsewhere.test", "help@desk.test", "alice@customer.test"]))
        #expect(try await store.participants(requestKey: "SD-1") == ["bob@customer.test"])
        let notification = try #require(
            try await store.addAgentComment(requestKey: "SD-1", author: "agent@desk.test", body: "Hi", isPublic: true)
                .notification)
        #expect(notification.recipients == ["alice@customer.test", "bob@customer.test"])
        #expect(String(decoding: notification.raw, as: UTF8.self).contains("Cc: bob@customer.test"))
    }

    @Test(
        "attachments are kept with the request: name, type, size, SHA-256 and the bytes on disk",
        arguments: StoreBackend.allCases)
    func attachments(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let bytes = Array("%PDF-1.4 tiny".utf8)
        _ = try await storeAndApply(
            store, channel: channel,
            intake(attachments: [
                IncomingAttachment(filename: "report.pdf", contentType: "application/pdf", isInline: false, data: bytes)
            ]))
        let stored = try await store.attachments(requestKey: "SD-1")
        #expect(stored.count == 1)
        let attachment = try #require(stored.first)
        #expect(attachment.filename == "report.pdf")
        #expect(attachment.size == bytes.count)
        #expect(attachment.sha256.count == 64)
        #expect(FileManager.default.contents(atPath: attachment.path) == Data(bytes))
    }

    @Test("an over-limit mail still becomes a request that says what was dropped", arguments: StoreBackend.allCases)
    func droppedAttachment(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let note =
            "attachment big.zip (application/zip, 30000000 bytes) dropped: over the 26214400-byte attachment limit"
        _ = try await storeAndApply(store, channel: channel, intake(body: "See attached.", notes: [note]))
        let detail = try await store.request(key: "SD-1")
        #expect(detail.request.description.hasPrefix("See attached."))
        #expect(detail.request.description.contains("[postdesk] " + note))
        #expect(try await store.processingLog(channelAddress: nil, since: nil, limit: 1).first?.notes == note)
    }

    @Test(
        "extra addresses of a channel are linked with it and cannot be linked elsewhere",
        arguments: StoreBackend.allCases)
    func extraAddresses(backend: StoreBackend) async throws {
        let (store, _) = try await makeDesk(on: backend)
        var extra = draft(address: "support@desk.test")
        extra.extraAddresses = ["Sales@Desk.test", "support@desk.test"]
        let channel = try await store.linkChannel(extra, watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
        #expect(channel.extraAddresses == ["sales@desk.test"])
        do {
            try await store.validate(draft(address: "sales@desk.test", username: "sales-login"))
            Issue.record("an extra address was linked twice")
        } catch let error as DeskError {
            #expect(error.message.contains("already linked"))
        }
    }

    @Test(
        "duplicates and skipped messages appear in the processing log once, after the mail they concern",
        arguments: StoreBackend.allCases)
    func mailboxEvents(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        _ = try await storeAndApply(store, channel: channel, intake())
        #expect(
            try await store.recordMailboxEvent(
                channelId: channel, mailboxUid: "9", from: "a@b.test", subject: "x", outcome: .skipped, detail: "read")
        )
        #expect(
            try await store.recordMailboxEvent(
                channelId: channel, mailboxUid: "9", from: "a@b.test", subject: "x", outcome: .skipped, detail: "read")
                == false)
        let log = try await store.processingLog(channelAddress: "help@desk.test", since: nil, limit: 10)
        #expect(log.map(\.outcome) == [.skipped, .created])
        #expect(try await store.knownMailboxUIDs(channelId: channel) == ["1", "9"])
        await #expect(throws: DeskError.self) {
            try await store.processingLog(channelAddress: "nobody@desk.test", since: nil, limit: 10)
        }
    }
}
