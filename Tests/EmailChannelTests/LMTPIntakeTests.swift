import Foundation
import LMTPServer
import Logging
import Testing

@testable import EmailChannel
@testable import ServiceDesk

/// LMTPIntake over a real SQLite file and a running router: who gets 250, 451 and 550, and that a mail is taken
/// once whichever way it came.
@Suite("LMTP intake")
struct LMTPIntakeTests {
    /// A desk on a SQLite file with an LMTP channel (help@, extra address support@) and an IMAP channel (sales@),
    /// and a router running until `stop()`.
    final class Desk: Sendable {
        let store: DeskStore
        let router: RequestRouter
        let intake: LMTPIntake
        let board = ChannelStatusBoard()
        let routerTask: Task<Void, any Error>
        let push: Channel
        let mailbox: Channel

        init() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "lmtp-intake-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            store = try DeskStore(
                path: directory.appendingPathComponent("postdesk.sqlite").path,
                secrets: SecretBox(keyFile: directory.appendingPathComponent("secret.key")))
            try await makeServiceDeskProject(in: store, signup: .public)
            push = try await store.linkChannel(
                ChannelDraft(
                    projectKey: "SD", address: "Help@Desk.test", protocol: .lmtp, host: "", port: 0, tls: .none,
                    caFile: nil, username: "", password: "", requestTypeName: "Get help",
                    extraAddresses: ["support@desk.test"]),
                watermark: LinkWatermark(uidValidity: nil, uidNext: nil))
            mailbox = try await store.linkChannel(
                ChannelDraft(
                    projectKey: "SD", address: "sales@desk.test", protocol: .imap, host: "127.0.0.1", port: 1,
                    tls: .none, caFile: nil, username: "sales@desk.test", password: "x", requestTypeName: "Get help"),
                watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
            let router = RequestRouter(store: store, logger: Logger(label: "test"))
            self.router = router
            routerTask = Task { try await router.run() }
            intake = LMTPIntake(store: store, router: router, statusBoard: board, logger: Logger(label: "test"))
        }

        func stop() async {
            routerTask.cancel()
            _ = await routerTask.result
        }

        /// The requests in the queue, once the router has had them (polls up to 10 s).
        func queue(count: Int) async throws -> [ServiceRequest] {
            let deadline = ContinuousClock.now + .seconds(10)
            while true {
                let queue = try await store.queue(projectKey: "SD")
                if queue.count >= count || ContinuousClock.now > deadline { return queue }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    static func mail(_ id: String, subject: String = "Printer broken") -> [UInt8] {
        Array(
            "From: Alice <alice@customer.test>\r\nTo: help@desk.test\r\nSubject: \(subject)\r\nMessage-ID: <\(id)@customer.test>\r\n\r\nIt jams.\r\n"
                .utf8)
    }

    @Test(
        "a recipient is taken by a channel's address or extra address, of any protocol, normalised; plus tags too",
        arguments: [
            ("help@desk.test", LMTPRecipientVerdict.accepted), ("HELP@desk.TEST", .accepted),
            ("support@desk.test", .accepted), ("sales@desk.test", .accepted),
            ("help+sd-1.abc@desk.test", .accepted), ("nobody@desk.test", .unknownRecipient),
            ("help@other.test", .unknownRecipient), ("not an address", .unknownRecipient),
        ])
    func recipients(_ address: String, _ verdict: LMTPRecipientVerdict) async throws {
        let desk = try await Desk()
        #expect(await desk.intake.recipient(address) == verdict)
        await desk.stop()
    }

    @Test("a disabled channel's address is refused with 550")
    func disabled() async throws {
        let desk = try await Desk()
        try await desk.store.writeSQLite { db in try db.execute(sql: "UPDATE channel SET enabled = 0 WHERE protocol = 'lmtp'")
        }
        #expect(await desk.intake.recipient("help@desk.test") == .unknownRecipient)
        #expect(await desk.intake.recipient("sales@desk.test") == .accepted)
        await desk.stop()
    }

    @Test("250 only after the commit: the mail is stored with a Return-Path and becomes a request")
    func delivered() async throws {
        let desk = try await Desk()
        let results = await desk.intake.deliver(
            LMTPDelivery(
                reversePath: "alice@customer.test", recipients: ["help@desk.test"], body: .sevenBit,
                message: Self.mail("m1")))
        #expect(results == [.delivered])
        // Committed before the answer: readable now, without waiting for the router.
        let log = try await desk.store.processingLog(channelAddress: "help@desk.test", since: nil, limit: 10)
        let inboundId = try #require(log.first?.inboundId)
        let stored = try #require(try await desk.store.inbound(id: inboundId))
        #expect(String(decoding: stored.raw, as: UTF8.self).hasPrefix("Return-Path: <alice@customer.test>\r\nFrom: "))
        let queue = try await desk.queue(count: 1)
        #expect(queue.map(\.summary) == ["Printer broken"])
        #expect(await desk.board.all().first { $0.address == "help@desk.test" }?.processedToday == 1)
        await desk.stop()
    }

    @Test("the same mail again (an MTA retry) is 250, processed once, and logged as a duplicate")
    func retry() async throws {
        let desk = try await Desk()
        let delivery = LMTPDelivery(
            reversePath: "alice@customer.test", recipients: ["help@desk.test"], body: .sevenBit,
            message: Self.mail("m2"))
        #expect(await desk.intake.deliver(delivery) == [.delivered])
        _ = try await desk.queue(count: 1)
        #expect(await desk.intake.deliver(delivery) == [.delivered])
        #expect(await desk.intake.deliver(delivery) == [.delivered])
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await desk.store.queue(projectKey: "SD").count == 1)
        let duplicates = try await desk.store.processingLog(
            channelAddress: "help@desk.test", since: nil, outcomes: [.duplicate], limit: 10)
        #expect(duplicates.count == 2)
        await desk.stop()
    }

    @Test("a mail fetched by IMAP and also delivered over LMTP to the same address makes one request")
    func imapAndLMTP() async throws {
        let desk = try await Desk()
        let mailboxId = try #require(desk.mailbox.id)
        // As Dovecot stored it: its own trace fields in front.
        let fetched =
            Array("Return-Path: <alice@customer.test>\r\nDelivered-To: sales@desk.test\r\n".utf8) + Self.mail("m3")
        let outcome = try await desk.store.receive(channelId: mailboxId, raw: fetched, mailboxUid: "7")
        await desk.router.submit(outcome.inboundId)
        _ = try await desk.queue(count: 1)
        let results = await desk.intake.deliver(
            LMTPDelivery(
                reversePath: "alice@customer.test", recipients: ["sales@desk.test"], body: .sevenBit,
                message: Self.mail("m3")))
        #expect(results == [.delivered])
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await desk.store.queue(projectKey: "SD").count == 1)
        let log = try await desk.store.processingLog(channelAddress: "sales@desk.test", since: nil, limit: 10)
        #expect(log.map(\.outcome).sorted { $0.rawValue < $1.rawValue } == [.created, .duplicate])
        await desk.stop()
    }

    @Test("when the store cannot commit, each recipient gets 451 and nothing is stored")
    func storeFails() async throws {
        let desk = try await Desk()
        try await desk.store.writeSQLite { db in
            try db.execute(
                sql: "CREATE TRIGGER refuse BEFORE INSERT ON inbound BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        let results = await desk.intake.deliver(
            LMTPDelivery(
                reversePath: "alice@customer.test", recipients: ["help@desk.test", "sales@desk.test"],
                body: .sevenBit, message: Self.mail("m4")))
        #expect(results == [.temporaryFailure, .temporaryFailure])
        #expect(try await desk.store.pendingInbound(limit: 10).isEmpty)
        #expect(try await desk.store.processingLog(channelAddress: nil, since: nil, limit: 10).isEmpty)
        await desk.stop()
    }

    @Test("one reply per recipient in RCPT order: two channels each get the mail; an unlinked one is 550")
    func perRecipient() async throws {
        let desk = try await Desk()
        try await desk.store.writeSQLite { db in
            try db.execute(sql: "DELETE FROM channelAddress WHERE address = 'support@desk.test'")
        }
        let results = await desk.intake.deliver(
            LMTPDelivery(
                reversePath: "", recipients: ["sales@desk.test", "support@desk.test", "help@desk.test"],
                body: .sevenBit, message: Self.mail("m5")))
        #expect(results == [.delivered, .unknownRecipient, .delivered])
        #expect(try await desk.store.processingLog(channelAddress: nil, since: nil, limit: 10).count == 2)
        await desk.stop()
    }
}
