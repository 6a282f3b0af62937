import Foundation
import GRDB
import Logging
import MailServerHarness
import Testing

@testable import EmailChannel
@testable import ServiceDesk

/// One mail a fault test delivers, and how to know it again.
struct FaultMail: Sendable, Equatable {
    var subject: String
    var raw: [UInt8]

    init(_ subject: String, from sender: String = "alice@customer.test") {
        self.subject = subject
        let id = subject.lowercased().replacingOccurrences(of: " ", with: "-")
        self.raw = Array(
            "From: \(sender)\r\nSubject: \(subject)\r\nMessage-ID: <\(id)@customer.test>\r\n\r\nBody of \(subject)\r\n"
                .utf8)
    }
}

/// A store, a router, a status board and an injected clock around one fake mailbox server replaying faults: the
/// mailbox actor runs against it, and the checks say whether every mail was taken exactly once.
struct MailboxFaultRig {
    let store: DeskStore
    var router: RequestRouter
    let board: ChannelStatusBoard
    let clock: ManualClock
    let box: FakeMailbox
    var server: FakeMailServer
    var channel: Channel

    /// A rig whose channel was linked just now with this watermark (UIDVALIDITY 1, UIDNEXT 1: all later mail).
    static func make(
        _ box: FakeMailbox, server: FakeMailServer, protocol mailProtocol: MailboxProtocol = .imap,
        tls: ServerTLS = .none, uidValidity: Int64 = 1, uidNext: Int64 = 1, linkedUIDLs: [String] = []
    ) async throws -> MailboxFaultRig {
        let store = try DeskStore.inMemory()
        try await makeServiceDeskProject(in: store, signup: .public)
        // The channel row is made directly: linking would read the watermark from the server.
        let channel = try await store.linkChannel(
            ChannelDraft(
                projectKey: "SD", address: "desk@contoso.test", protocol: mailProtocol, host: "127.0.0.1",
                port: server.port, tls: tls, caFile: nil, username: "desk@contoso.test", password: "pw",
                requestTypeName: "Get help"),
            watermark: LinkWatermark(uidValidity: uidValidity, uidNext: uidNext, pop3UIDLs: linkedUIDLs))
        return MailboxFaultRig(
            store: store, router: RequestRouter(store: store, logger: Logger(label: "t")), board: ChannelStatusBoard(),
            clock: ManualClock(), box: box, server: server, channel: channel)
    }

    static let pollInterval = Duration.seconds(60)

    /// A mailbox actor for the channel, on the injected clock.
    func actor(
        commandTimeout: Duration = .seconds(10), idleInterval: Duration = .seconds(25 * 60),
        fetchBatchSize: Int = MailboxActor.defaultFetchBatchSize
    ) -> MailboxActor {
        MailboxActor(
            channel: RunnableChannel(channel: channel, password: "pw", projectKey: "SD"), store: store, router: router,
            statusBoard: board, pollInterval: Self.pollInterval, idleInterval: idleInterval, clock: clock,
            commandTimeout: commandTimeout, fetchBatchSize: fetchBatchSize, logger: Logger(label: "t"))
    }

    /// Runs `actor` and the router while `body` drives the test, then stops both.
    func run(_ actor: MailboxActor, _ body: () async throws -> Void) async throws {
        let router = router
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await actor.run() }
            group.addTask { try await router.run() }
            do {
                try await body()
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    var status: ChannelStatus? {
        get async { await board.all().first }
    }

    /// Waits until the mailbox failed on connection `connection` and sleeps its backoff; returns the status.
    @discardableResult
    func waitForBackoff(afterConnection connection: Int) async throws -> ChannelStatus {
        let board = board
        let clock = clock
        let server = self.server
        try await MailboxBackoffClockTests.waitFor("the backoff after connection \(connection)") {
            await board.all().first?.state == .backingOff && server.connectionCount == connection
                && clock.pendingSleeps.count == 1
        }
        return try #require(await status)
    }

    /// Ends the pending sleep (a backoff or the poll interval) at once.
    func advanceClock() {
        if let next = clock.pendingSleeps.first { clock.advance(by: next) }
    }

    /// Waits until `count` requests exist and the mailbox is idle again, waiting for its next poll.
    func waitForRequests(_ count: Int, polling: Bool = true) async throws {
        let store = store
        let board = board
        let clock = clock
        try await MailboxBackoffClockTests.waitFor("\(count) requests and an idle mailbox") {
            let requests = (try? await store.queue(projectKey: "SD").count) ?? -1
            let pending = (try? await store.pendingInbound(limit: 10).count) ?? -1
            let idle = await board.all().first?.state == .idle
            return requests == count && pending == 0 && idle && (!polling || clock.pendingSleeps == [Self.pollInterval])
        }
    }

    /// Waits until the router has made `count` requests, whatever the mailbox is doing (backing off, say):
    /// the mailbox hands stored mail over and moves on, the router processes it on its own time.
    func waitForQueue(_ count: Int) async throws {
        let store = store
        try await MailboxBackoffClockTests.waitFor("\(count) requests") {
            (try? await store.queue(projectKey: "SD").count) == count
        }
    }

    /// The channel's inbound rows.
    func inboundRows() async throws -> [InboundMail] {
        let channelId = channel.id
        return try await store.readSQLite { db in
            try InboundMail.filter(Column("channelId") == channelId).order(Column("id")).fetchAll(db)
        }
    }

    /// Nothing the mailbox marked done (IMAP \Seen; POP3: deleted) is missing from the store.
    func expectNothingMarkedUnstored(
        delivered: [FaultMail], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let stored = Set(try await inboundRows().map { [UInt8]($0.raw) })
        let held = box.messages
        for message in held where message.isSeen {
            #expect(stored.contains(message.raw), "flagged \\Seen but not stored", sourceLocation: sourceLocation)
        }
        if channel.protocol == .pop3 {
            for mail in delivered where !held.contains(where: { $0.raw == mail.raw }) {
                #expect(
                    stored.contains(mail.raw), "\(mail.subject) deleted from the server but not stored",
                    sourceLocation: sourceLocation)
            }
        }
    }

    /// Every mail in `taken` is exactly one inbound row, processed into one request of its own; nothing else was
    /// stored; the queue, the processing log and the status board's count agree; `duplicates` are the mails the log
    /// may show once more as a duplicate (a copy under a new UID). In the mailbox, each taken mail is done (\Seen, or
    /// gone from the POP3 server) and the mails in `untouched` are still there, unread.
    func expectTakenExactlyOnce(
        _ taken: [FaultMail], duplicates: [FaultMail] = [], untouched: [FaultMail] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let rows = try await inboundRows()
        #expect(rows.count == taken.count, "inbound rows", sourceLocation: sourceLocation)
        for mail in taken {
            let copies = rows.filter { [UInt8]($0.raw) == mail.raw }
            #expect(copies.count == 1, "\(mail.subject): \(copies.count) inbound rows", sourceLocation: sourceLocation)
            #expect(copies.first?.outcome == .created, "\(mail.subject)", sourceLocation: sourceLocation)
        }
        let keys = rows.compactMap(\.requestKey)
        #expect(Set(keys).count == taken.count, "one request per mail", sourceLocation: sourceLocation)
        let queue = try await store.queue(projectKey: "SD")
        #expect(
            queue.map(\.summary).sorted() == taken.map(\.subject).sorted(), "the queue", sourceLocation: sourceLocation)
        let log = try await store.processingLog(channelAddress: nil, since: nil, limit: 100)
        #expect(
            log.filter { $0.outcome == .created }.compactMap(\.subject).sorted() == taken.map(\.subject).sorted(),
            "created lines of the processing log", sourceLocation: sourceLocation)
        #expect(
            log.filter { $0.outcome == .duplicate }.compactMap(\.subject).sorted()
                == duplicates.map(\.subject).sorted(),
            "duplicate lines of the processing log", sourceLocation: sourceLocation)
        #expect(
            log.allSatisfy { [.created, .duplicate].contains($0.outcome) }, "no other outcome: \(log.map(\.outcome))",
            sourceLocation: sourceLocation)
        let status = await self.status
        #expect(status?.processedToday == taken.count, "processed today", sourceLocation: sourceLocation)
        // Read after the run: `waitForRequests` saw the state idle; nothing may be left of the backoff.
        #expect(status?.retryAt == nil, sourceLocation: sourceLocation)
        let held = box.messages
        for mail in taken {
            if channel.protocol == .imap {
                let unread = held.filter { $0.raw == mail.raw && !$0.isSeen }
                #expect(unread.isEmpty, "\(mail.subject) left unread", sourceLocation: sourceLocation)
            } else {
                #expect(
                    !held.contains { $0.raw == mail.raw }, "\(mail.subject) left on the server",
                    sourceLocation: sourceLocation)
            }
        }
        for mail in untouched {
            #expect(
                held.contains { $0.raw == mail.raw && !$0.isSeen }, "\(mail.subject) touched",
                sourceLocation: sourceLocation)
        }
        try await expectNothingMarkedUnstored(delivered: taken + untouched, sourceLocation: sourceLocation)
        #expect(server.unexpectedLines.isEmpty, "the client went off script", sourceLocation: sourceLocation)
    }
}
