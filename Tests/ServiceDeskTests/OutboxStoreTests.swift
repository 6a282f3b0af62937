import Foundation
import Testing

@testable import ServiceDesk

/// The outbox in the store: statuses as cases, refused recipients per message, listing, retrying failed ones.
@Suite("Outbox store")
struct OutboxStoreTests {
    static func desk(on backend: StoreBackend = .sqlite, notifications: Int) async throws -> (DeskStore, [Int64]) {
        let (store, channel) = try await makeDesk(on: backend)
        _ = try await storeAndApply(store, channel: channel, intake())
        var ids: [Int64] = []
        for index in 0..<notifications {
            let result = try await store.addAgentComment(
                requestKey: "SD-1", author: "agent@desk.test", body: "comment \(index)", isPublic: true)
            ids.append(try #require(result.notification?.id))
        }
        return (store, ids)
    }

    @Test(
        "a send records the refused recipients with their replies, and the listing shows them",
        arguments: StoreBackend.allCases)
    func refusedRecipients(backend: StoreBackend) async throws {
        let (store, ids) = try await Self.desk(on: backend, notifications: 1)
        try await store.markSent(
            outboxId: ids[0], reply: "250 2.0.0 queued",
            refusedRecipients: ["bob@customer.test": "550 5.1.1 <bob@customer.test>: unknown"])
        let entry = try #require(try await store.outboxEntries().first)
        #expect(entry.status == .sent)
        #expect(entry.requestKey == "SD-1")
        #expect(entry.recipients == ["alice@customer.test"])
        #expect(entry.attempts == 1)
        #expect(entry.refusedRecipients == ["bob@customer.test": "550 5.1.1 <bob@customer.test>: unknown"])
        #expect(entry.sentAt != nil)
        #expect(try await store.dueOutbox(now: Date(), limit: 10).isEmpty)
    }

    @Test(
        "only failed notifications can be retried; they become pending, due now, with a fresh count",
        arguments: StoreBackend.allCases)
    func retryFailed(backend: StoreBackend) async throws {
        let (store, ids) = try await Self.desk(on: backend, notifications: 3)
        try await store.markAttemptFailed(outboxId: ids[0], reply: "554 5.7.1 refused", retryAt: nil)
        try await store.markAttemptFailed(outboxId: ids[1], reply: "550 5.1.1 unknown", retryAt: nil)
        try await store.markSent(outboxId: ids[2], reply: "250 ok")
        #expect(try await store.outboxEntries(status: .failed).map(\.id) == [ids[1], ids[0]])
        #expect(try await store.outboxCounts() == OutboxCounts(pending: 0, due: 0, failed: 2))

        await #expect(throws: DeskError.self) { try await store.retryFailedNotification(id: ids[2]) }
        await #expect(throws: DeskError.self) { try await store.retryFailedNotification(id: 999) }

        let now = Date()
        try await store.retryFailedNotification(id: ids[0], now: now)
        let retried = try #require(try await store.outboxEntries().first { $0.id == ids[0] })
        #expect(retried.status == .pending)
        #expect(retried.attempts == 0)
        #expect(retried.lastReply == "554 5.7.1 refused")
        #expect(try await store.dueOutbox(now: now, limit: 10).map(\.id) == [ids[0]])

        #expect(try await store.retryAllFailedNotifications(now: now) == [ids[1]])
        #expect(try await store.outboxCounts(now: now) == OutboxCounts(pending: 2, due: 2, failed: 0))
        #expect(try await store.retryAllFailedNotifications(now: now).isEmpty)
    }

    @Test("a pass over the due notifications continues after the last id it saw", arguments: StoreBackend.allCases)
    func dueAfterCursor(backend: StoreBackend) async throws {
        let (store, ids) = try await Self.desk(on: backend, notifications: 5)
        let first = try await store.dueOutbox(now: Date(), limit: 2)
        #expect(first.compactMap(\.id) == Array(ids[0..<2]))
        let next = try await store.dueOutbox(now: Date(), limit: 10, afterId: try #require(first.last?.id))
        #expect(next.compactMap(\.id) == Array(ids[2...]))
    }

    @Test(
        "more notifications an hour to one recipient than the limit are held; release sends, drop gives up",
        arguments: StoreBackend.allCases)
    func recipientLimit(backend: StoreBackend) async throws {
        let (store, _) = try await Self.desk(on: backend, notifications: 0)
        var statuses: [OutboxStatus] = []
        var ids: [Int64] = []
        for index in 0..<4 {
            let result = try await store.addAgentComment(
                requestKey: "SD-1", author: "agent@desk.test", body: "update \(index)", isPublic: true,
                recipientHourlyLimit: 2)
            let notification = try #require(result.notification)
            statuses.append(notification.status)
            ids.append(try #require(notification.id))
        }
        #expect(statuses == [.pending, .pending, .held, .held])
        let held = try await store.outboxEntries(status: .held)
        #expect(held.count == 2)
        #expect(held.first?.lastReply?.contains("alice@customer.test was sent 2 notifications") == true)
        #expect(try await store.dueOutbox(now: Date(), limit: 10).map(\.id) == [ids[0], ids[1]])
        #expect(try await store.settleHeldNotifications(id: ids[2], drop: false) == [ids[2]])
        #expect(try await store.dueOutbox(now: Date(), limit: 10).map(\.id) == [ids[0], ids[1], ids[2]])
        #expect(try await store.settleHeldNotifications(id: nil, drop: true) == [ids[3]])
        #expect(try await store.outboxEntries(status: .failed).map(\.id) == [ids[3]])
        await #expect(throws: DeskError.self) { try await store.settleHeldNotifications(id: ids[0], drop: false) }
    }
}
