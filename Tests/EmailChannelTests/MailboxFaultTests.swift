import Foundation
import Logging
import MailServerHarness
import Testing

@testable import EmailChannel
@testable import ServiceDesk

/// Issue 8 §6: a fake mailbox server replays the faults of networks and broken servers, one per test; after the
/// fault and a later clean session, every mail is exactly one inbound row and one request, the queue, the processing
/// log and the status board agree, and nothing was flagged \Seen or deleted that is not stored.
@Suite("Mailbox faults: recovery, nothing lost, nothing twice", .timeLimit(.minutes(1)))
struct MailboxFaultTests {
    static let first = FaultMail("Printer on fire")
    static let second = FaultMail("VPN down")

    // MARK: - IMAP

    @Test("a connection cut inside a FETCH literal stores and flags nothing; the next session takes each mail once")
    func cutInsideLiteral() async throws {
        let box = FakeMailbox()
        box.deliver(Self.first.raw)
        box.deliver(Self.second.raw)
        // The first message arrives whole, the second is cut in half: the command never completes.
        let server = try FakeMailServer.imap(box, faults: [.on(#"^UID FETCH .*BODY\.PEEK\[\]"#, .cutInsideLiteral(1))])
        defer { server.stop() }
        let rig = try await MailboxFaultRig.make(box, server: server)
        try await rig.run(rig.actor()) {
            let status = try await rig.waitForBackoff(afterConnection: 1)
            #expect(status.detail?.contains("closed the connection") == true)
            #expect(try await rig.inboundRows().isEmpty)
            #expect(box.messages.allSatisfy { !$0.isSeen })
            rig.advanceClock()
            try await rig.waitForRequests(2)
        }
        #expect(server.faultsFired == [1])
        try await rig.expectTakenExactlyOnce([Self.first, Self.second])
    }

    @Test("* BYE right after SELECT ends the session with the server's words; the next session takes the mail once")
    func byeAfterSelect() async throws {
        let box = FakeMailbox()
        box.deliver(Self.first.raw)
        let bye = "* BYE Server shutting down for maintenance"
        let server = try FakeMailServer.imap(
            box, faults: [.on("^SELECT ", .surround(before: [], after: [.line(bye)], then: .close))])
        defer { server.stop() }
        let rig = try await MailboxFaultRig.make(box, server: server)
        try await rig.run(rig.actor()) {
            let status = try await rig.waitForBackoff(afterConnection: 1)
            #expect(status.detail?.contains("Server shutting down for maintenance") == true)
            try await rig.expectNothingMarkedUnstored(delivered: [Self.first])
            rig.advanceClock()
            try await rig.waitForRequests(1)
        }
        try await rig.expectTakenExactlyOnce([Self.first])
    }

    @Test(
        "* BYE during IDLE ends the session at once, even when the server leaves the socket open; mail is taken once",
        arguments: [false, true])
    func byeDuringIdle(socketLeftOpen: Bool) async throws {
        let box = FakeMailbox()
        box.deliver(Self.first.raw)
        let bye = FakeMailScript.Step.line("* BYE Idle session expired")
        let server = try FakeMailServer.imap(
            box, faults: [.on("^IDLE", .surround(before: [], after: [bye], then: socketLeftOpen ? .silence : .close))],
            capabilities: "IMAP4rev1 IDLE")
        defer { server.stop() }
        let rig = try await MailboxFaultRig.make(box, server: server)
        try await rig.run(rig.actor()) {
            // The first session takes the first mail, then idles until the server says BYE.
            let status = try await rig.waitForBackoff(afterConnection: 1)
            #expect(status.detail?.contains("Idle session expired") == true)
            try await rig.waitForQueue(1)
            box.deliver(Self.second.raw)
            rig.advanceClock()
            try await rig.waitForRequests(2, polling: false)
        }
        try await rig.expectTakenExactlyOnce([Self.first, Self.second])
    }

    @Test("NO to UID STORE after the fetch: the mail is stored; the next session flags it and makes no second request")
    func storeRefused() async throws {
        let box = FakeMailbox()
        box.deliver(Self.first.raw)
        let server = try FakeMailServer.imap(
            box, faults: [.on("^UID STORE ", .replace([.line("{tag} NO [SERVERBUG] Cannot store flags")], then: .next))]
        )
        defer { server.stop() }
        let rig = try await MailboxFaultRig.make(box, server: server)
        try await rig.run(rig.actor()) {
            let status = try await rig.waitForBackoff(afterConnection: 1)
            #expect(status.detail?.contains("Cannot store flags") == true)
            #expect(try await rig.inboundRows().count == 1)
            #expect(box.messages.allSatisfy { !$0.isSeen })
            rig.advanceClock()
            try await rig.waitForRequests(1)
        }
        // The second session flagged it.
        #expect(server.receivedLines.filter { $0.contains("UID STORE") }.count == 2)
        try await rig.expectTakenExactlyOnce([Self.first])
    }

    @Test(
        "a UID STORE refused for every batch does not hold back the mail in later batches; the next session flags all")
    func storeRefusedEveryBatch() async throws {
        let box = FakeMailbox()
        // Twenty-one mails: two fetch batches of twenty (the second stored while the first is flagged). Each from
        // its own customer (the rate breaker holds more than twenty an hour from one sender).
        let mails = (1...21).map { FaultMail("Question \($0)", from: "customer\($0)@customer.test") }
        for mail in mails { box.deliver(mail.raw) }
        let refused = FakeMailFault(
            .command("^UID STORE "), on: [1], times: 2,
            .replace([.line("{tag} NO [NOPERM] Permission denied")], then: .next))
        let server = try FakeMailServer.imap(box, faults: [refused])
        defer { server.stop() }
        let rig = try await MailboxFaultRig.make(box, server: server)
        try await rig.run(rig.actor(fetchBatchSize: 20)) {
            let status = try await rig.waitForBackoff(afterConnection: 1)
            #expect(status.detail?.contains("Permission denied") == true)
            #expect(try await rig.inboundRows().count == 21)
            #expect(box.messages.allSatisfy { !$0.isSeen })
            rig.advanceClock()
            try await rig.waitForRequests(21)
        }
        #expect(server.faultsFired == [2])
        try await rig.expectTakenExactlyOnce(mails)
    }

    @Test(
        "the answer to a UID STORE the server applied is lost: the stored mail still becomes its request, and is not fetched again"
    )
    func storeAnswerLost() async throws {
        let box = FakeMailbox()
        box.deliver(Self.first.raw)
        let server = try FakeMailServer.imap(box, faults: [.on("^UID STORE ", .carryOutSilently(then: .close))])
        defer { server.stop() }
        var rig = try await MailboxFaultRig.make(box, server: server)
        // No sweep within the test: only the mailbox's hand-over can make the request.
        rig.router = RequestRouter(store: rig.store, sweepInterval: .seconds(3600), logger: Logger(label: "t"))
        try await rig.run(rig.actor()) {
            try await rig.waitForBackoff(afterConnection: 1)
            #expect(box.messages.allSatisfy { $0.isSeen })
            try await rig.expectNothingMarkedUnstored(delivered: [Self.first])
            rig.advanceClock()
            try await rig.waitForRequests(1)
        }
        #expect(server.connectionCount == 2)
        #expect(server.receivedLines.filter { $0.contains("BODY.PEEK[]") }.count == 1)
        try await rig.expectTakenExactlyOnce([Self.first])
    }

    /// Where a server stops answering.
    enum Silence: String, CaseIterable, Sendable {
        case greeting, select, fetch

        var fault: FakeMailFault {
            switch self {
            case .greeting: FakeMailFault(.greeting, FakeMailFault.stopAnswering)
            case .select: .on("^SELECT ", FakeMailFault.stopAnswering)
            case .fetch: .on(#"^UID FETCH .*BODY\.PEEK\[\]"#, FakeMailFault.stopAnswering)
            }
        }
    }

    @Test(
        "a server that stops answering hits the command deadline, backs off, and the next session recovers",
        arguments: Silence.allCases)
    func stopsAnswering(at silence: Silence) async throws {
        let box = FakeMailbox()
        box.deliver(Self.first.raw)
        let server = try FakeMailServer.imap(box, faults: [silence.fault])
        defer { server.stop() }
        let rig = try await MailboxFaultRig.make(box, server: server)
        try await rig.run(rig.actor(commandTimeout: .seconds(1))) {
            let status = try await rig.waitForBackoff(afterConnection: 1)
            #expect(status.detail?.contains("did not answer in time") == true)
            #expect(try await rig.inboundRows().isEmpty)
            rig.advanceClock()
            try await rig.waitForRequests(1)
        }
        #expect(server.faultsFired == [1])
        try await rig.expectTakenExactlyOnce([Self.first])
    }

    @Test("a slow drip, one byte at a time but within every deadline, succeeds in one session")
    func slowDrip() async throws {
        let box = FakeMailbox()
        box.deliver(Self.first.raw)
        box.deliver(Self.second.raw)
        let server = try FakeMailServer.imap(box, faults: [FakeMailFault(.greeting, .drip(every: .milliseconds(1)))])
        defer { server.stop() }
        let rig = try await MailboxFaultRig.make(box, server: server)
        try await rig.run(rig.actor(commandTimeout: .seconds(20))) {
            try await rig.waitForRequests(2)
        }
        #expect(server.connectionCount == 1)
        #expect(await rig.status?.lastError == nil)
        try await rig.expectTakenExactlyOnce([Self.first, Self.second])
    }

    /// Server output no client can accept.
    enum Garbage: String, CaseIterable, Sendable {
        case binaryLine, overLongLine, overLongWithoutCRLF

        var steps: [FakeMailScript.Step] {
            switch self {
            case .binaryLine: [.bytes([0x00, 0xFF, 0xFE] + Array(" @@ (((garbage\r\n".utf8))]
            case .overLongLine: [.line("* OK " + String(repeating: "x", count: (1 << 20) + 100))]
            case .overLongWithoutCRLF: [.bytes(Array(repeating: UInt8(ascii: "x"), count: (1 << 20) + 100))]
            }
        }

        /// What the status must say.
        var words: String {
            switch self {
            case .binaryLine: "unparseable IMAP response"
            case .overLongLine, .overLongWithoutCRLF: "longer than 1048576 bytes"
            }
        }
    }

    @Test(
        "garbage or an over-long line from the server: a clear error, the session ends, backoff, then recovery",
        arguments: Garbage.allCases)
    func garbage(_ garbage: Garbage) async throws {
        let box = FakeMailbox()
        box.deliver(Self.first.raw)
        let server = try FakeMailServer.imap(
            box, faults: [.on("^UID SEARCH ", .replace(garbage.steps, then: .silence))])
        defer { server.stop() }
        let rig = try await MailboxFaultRig.make(box, server: server)
        try await rig.run(rig.actor()) {
            let status = try await rig.waitForBackoff(afterConnection: 1)
            #expect(status.detail?.contains(garbage.words) == true)
            #expect(status.lastError != nil)
            #expect(try await rig.inboundRows().isEmpty)
            rig.advanceClock()
            try await rig.waitForRequests(1)
        }
        try await rig.expectTakenExactlyOnce([Self.first])
    }

    @Test(
        "TLS to a server that speaks plaintext needs attention with the TLS diagnosis and is not retried; fixed settings take the mail once"
    )
    func tlsFailure() async throws {
        let box = FakeMailbox()
        box.deliver(Self.first.raw)
        let server = try FakeMailServer.imap(box)
        defer { server.stop() }
        var rig = try await MailboxFaultRig.make(box, server: server, tls: .implicit)
        try await rig.run(rig.actor()) {
            try await MailboxBackoffClockTests.waitFor("needs-attention") {
                await rig.status?.state == .needsAttention
            }
            let status = try #require(await rig.status)
            #expect(status.detail?.contains("TLS handshake failed") == true)
            #expect(status.detail?.contains("does not speak TLS on this port") == true)
            rig.clock.advance(by: .seconds(7 * 24 * 3600))
            try await Task.sleep(for: .milliseconds(200))
            #expect(server.connectionCount == 1)
            #expect(box.messages.allSatisfy { !$0.isSeen })
        }
        #expect(try await rig.inboundRows().isEmpty)
        // The admin fixes the setting (plaintext on this port); the supervisor starts the mailbox anew. A server
        // of its own for this part: the first one may have read the TLS hello as a garbled command.
        let fixed = try FakeMailServer.imap(box)
        defer { fixed.stop() }
        rig.server = fixed
        rig.channel.port = fixed.port
        rig.channel.tls = .none
        rig.router = RequestRouter(store: rig.store, logger: Logger(label: "t"))
        try await rig.run(rig.actor()) {
            try await rig.waitForRequests(1)
        }
        try await rig.expectTakenExactlyOnce([Self.first])
    }

    /// A mailbox under UIDVALIDITY 1 holding `first`, and its server: the first session ends at its first NOOP, as
    /// when the mailbox is being rebuilt (the test then recreates it).
    static func mailboxToRebuild() throws -> (FakeMailbox, FakeMailServer) {
        let box = FakeMailbox(uidValidity: 1)
        box.deliver(Self.first.raw)
        let server = try FakeMailServer.imap(
            box, faults: [.on("^NOOP", .replace([.line("* BYE Mailbox is being rebuilt")], then: .close))])
        return (box, server)
    }

    @Test(
        "after a UIDVALIDITY change between sessions, mail is chosen by INTERNALDATE after linking and each is taken once"
    )
    func uidValidityChange() async throws {
        let (box, server) = try Self.mailboxToRebuild()
        defer { server.stop() }
        let older = FaultMail("Sent before linking")
        let rig = try await MailboxFaultRig.make(box, server: server)
        try await rig.run(rig.actor()) {
            try await rig.waitForRequests(1)
            // Rebuilt under a new UIDVALIDITY: UIDs start again, flags are lost, and the new mail takes the first
            // mail's old UID.
            box.recreate(uidValidity: 2)
            box.deliver(Self.second.raw)
            box.deliver(Self.first.raw)
            box.deliver(older.raw, internalDate: rig.channel.linkedAt.addingTimeInterval(-3600))
            rig.advanceClock()
            try await rig.waitForBackoff(afterConnection: 1)
            rig.advanceClock()
            try await rig.waitForRequests(2)
        }
        #expect(server.connectionCount == 2)
        try await rig.expectTakenExactlyOnce([Self.first, Self.second], duplicates: [Self.first], untouched: [older])
    }

    @Test(
        "after a UIDVALIDITY change the session that read the mailbox by arrival date saves a new watermark: later mail counts by UID again, and mail read elsewhere is logged again"
    )
    func uidValidityChangeMovesWatermark() async throws {
        let (box, server) = try Self.mailboxToRebuild()
        defer { server.stop() }
        let older = FaultMail("Sent before linking")
        let moved = FaultMail("Moved in from an archive")
        let readElsewhere = FaultMail("Read on the phone")
        let rig = try await MailboxFaultRig.make(box, server: server)
        let beforeLinking = rig.channel.linkedAt.addingTimeInterval(-3600)
        try await rig.run(rig.actor()) {
            try await rig.waitForRequests(1)
            box.recreate(uidValidity: 2)
            box.deliver(Self.second.raw)
            box.deliver(older.raw, internalDate: beforeLinking)
            rig.advanceClock()
            try await rig.waitForBackoff(afterConnection: 1)
            rig.advanceClock()
            try await rig.waitForRequests(2)
            // The second session selected UIDNEXT 3 and stored everything after linking below it.
            let channel = try #require(try await rig.store.channels().first?.channel)
            #expect(channel.uidValidity == 2 && channel.uidNextAtLink == 3)
            // Now a mail is new by its UID, whatever its date: one moved in with an old INTERNALDATE is taken (the
            // arrival-date rule would leave it), and one read elsewhere first is logged as skipped.
            box.deliver(moved.raw, internalDate: beforeLinking)
            box.deliver(readElsewhere.raw, flags: ["\\Seen"])
            rig.advanceClock()
            try await rig.waitForRequests(3)
        }
        #expect(server.connectionCount == 2)
        let queue = try await rig.store.queue(projectKey: "SD").map(\.summary).sorted()
        #expect(queue == [Self.first.subject, Self.second.subject, moved.subject].sorted())
        let log = try await rig.store.processingLog(channelAddress: nil, since: nil, limit: 100)
        #expect(log.filter { $0.outcome == .skipped }.compactMap(\.subject) == [readElsewhere.subject])
        #expect(box.messages.contains { $0.raw == older.raw && !$0.isSeen }, "the mail from before linking is left")
        #expect(server.unexpectedLines.isEmpty)
    }

    @Test("a deleted mailbox (SELECT answered NO) backs off with the server's words; once back, its mail is taken once")
    func mailboxDeleted() async throws {
        let box = FakeMailbox()
        box.exists = false
        let server = try FakeMailServer.imap(box)
        defer { server.stop() }
        let rig = try await MailboxFaultRig.make(box, server: server)
        try await rig.run(rig.actor()) {
            let status = try await rig.waitForBackoff(afterConnection: 1)
            #expect(status.detail?.contains("NONEXISTENT") == true)
            box.recreate(uidValidity: 9)
            box.deliver(Self.first.raw)
            rig.advanceClock()
            try await rig.waitForRequests(1)
        }
        try await rig.expectTakenExactlyOnce([Self.first])
    }

    // MARK: - POP3

    @Test(
        "POP3: the connection drops after RETR, before DELE and QUIT: the mail is stored and stays on the server; the next session deletes it, no second request"
    )
    func pop3DropAfterRetrieve() async throws {
        let box = FakeMailbox()
        let present = FaultMail("Present at link")
        let linked = box.deliver(present.raw).uidl
        box.deliver(Self.first.raw)
        box.deliver(Self.second.raw)
        let server = try FakeMailServer.pop3(box, faults: [.on("^RETR ", FakeMailFault.dropAfterAnswer)])
        defer { server.stop() }
        let rig = try await MailboxFaultRig.make(box, server: server, protocol: .pop3, linkedUIDLs: [linked])
        try await rig.run(rig.actor()) {
            try await rig.waitForBackoff(afterConnection: 1)
            #expect(try await rig.inboundRows().map(\.subject) == [Self.first.subject])
            #expect(box.messages.count == 3)
            rig.advanceClock()
            try await rig.waitForRequests(2)
        }
        #expect(!server.receivedLines.contains("RETR 1"))
        try await rig.expectTakenExactlyOnce([Self.first, Self.second], untouched: [present])
    }

    @Test(
        "POP3: the answer to a QUIT the server carried out is lost: the stored mail still becomes its request, and is not fetched again"
    )
    func pop3QuitAnswerLost() async throws {
        let box = FakeMailbox()
        box.deliver(Self.first.raw)
        let server = try FakeMailServer.pop3(box, faults: [.on("^QUIT", .carryOutSilently(then: .close))])
        defer { server.stop() }
        var rig = try await MailboxFaultRig.make(box, server: server, protocol: .pop3)
        // No sweep within the test: only the mailbox's hand-over can make the request.
        rig.router = RequestRouter(store: rig.store, sweepInterval: .seconds(3600), logger: Logger(label: "t"))
        try await rig.run(rig.actor()) {
            try await rig.waitForBackoff(afterConnection: 1)
            #expect(box.messages.isEmpty)
            try await rig.expectNothingMarkedUnstored(delivered: [Self.first])
            rig.advanceClock()
            try await rig.waitForRequests(1)
        }
        #expect(server.connectionCount == 2)
        #expect(server.receivedLines.filter { $0.hasPrefix("RETR") }.count == 1)
        try await rig.expectTakenExactlyOnce([Self.first])
    }

    @Test(
        "POP3: -ERR on DELE: the other mail is still taken and deleted; the refused one is deleted at the next poll, no second request"
    )
    func pop3DeleteRefusedOnce() async throws {
        let box = FakeMailbox()
        box.deliver(Self.first.raw)
        box.deliver(Self.second.raw)
        let server = try FakeMailServer.pop3(
            box, faults: [.on("^DELE 1$", .replace([.line("-ERR [SYS/TEMP] Unable to delete now")], then: .next))])
        defer { server.stop() }
        let rig = try await MailboxFaultRig.make(box, server: server, protocol: .pop3)
        try await rig.run(rig.actor()) {
            try await rig.waitForRequests(2)
            #expect(box.messages.map(\.raw) == [Self.first.raw])
            try await rig.expectNothingMarkedUnstored(delivered: [Self.first, Self.second])
            rig.advanceClock()
            try await MailboxBackoffClockTests.waitFor("the next poll") {
                box.messages.isEmpty && rig.clock.pendingSleeps == [MailboxFaultRig.pollInterval]
            }
        }
        #expect(server.connectionCount == 2)
        try await rig.expectTakenExactlyOnce([Self.first, Self.second])
    }

    @Test("POP3: a message the server never lets us delete does not block the mail after it, and is never taken twice")
    func pop3DeleteAlwaysRefused() async throws {
        let box = FakeMailbox()
        box.deliver(Self.first.raw)
        box.deliver(Self.second.raw)
        let refusal = "-ERR [SYS/PERM] Message is locked"
        let server = try FakeMailServer.pop3(
            box,
            faults: [FakeMailFault(.command("^DELE 1$"), on: nil, times: .max, .replace([.line(refusal)], then: .next))]
        )
        defer { server.stop() }
        let rig = try await MailboxFaultRig.make(box, server: server, protocol: .pop3)
        try await rig.run(rig.actor()) {
            try await rig.waitForRequests(2)
            rig.advanceClock()
            try await MailboxBackoffClockTests.waitFor("a second poll") {
                server.connectionCount == 2 && rig.clock.pendingSleeps == [MailboxFaultRig.pollInterval]
                    && server.receivedLines.filter { $0 == "QUIT" }.count == 2
            }
            #expect(await rig.status?.detail?.contains("Message is locked") == true)
        }
        #expect(box.messages.map(\.raw) == [Self.first.raw])
        let rows = try await rig.inboundRows()
        #expect(rows.count == 2)
        #expect(try await rig.store.queue(projectKey: "SD").count == 2)
        try await rig.expectNothingMarkedUnstored(delivered: [Self.first, Self.second])
    }
}
