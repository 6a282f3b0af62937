import Foundation
import GRDB
import MailMessage
import Testing

@testable import ServiceDesk

/// Raw mail text with CRLF line ends.
private func mail(_ text: String) -> [UInt8] {
    Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
}

/// Stores raw mail and processes it with the reading the router would make.
private func deliver(_ store: DeskStore, channel: Int64, _ text: String, policy: IntakePolicy = .init()) async throws
    -> Disposition
{
    let raw = mail(text)
    let outcome = try await store.receive(channelId: channel, raw: raw, mailboxUid: UUID().uuidString)
    return try await store.process(MailReading(raw: raw), inboundId: outcome.inboundId, policy: policy)
}

@Suite("Inbound path: keys, fates and who may join a request")
struct InboundPathTests {
    static let original = """
        Received: from mx1.example by desk; Mon, 30 Nov 2026 10:00:00 +0000
        Delivered-To: help@desk.test
        From: Alice <alice@customer.test>
        To: help@desk.test
        Subject: Printer
        Message-ID: <m1@customer.test>

        The printer is jammed.
        """

    @Test(
        "the same mail delivered twice with other trace headers has one key; another body with its Message-ID has another"
    )
    func fingerprint() {
        let first = InboundFingerprint(raw: mail(Self.original))
        let redelivered = InboundFingerprint(
            raw: mail(
                Self.original.replacingOccurrences(of: "mx1.example", with: "mx2.example")
                    .replacingOccurrences(
                        of: "Delivered-To: help@desk.test",
                        with: "Delivered-To: sales@desk.test\nX-Original-To: sales@desk.test")))
        let bareLF = InboundFingerprint(raw: Array(Self.original.utf8))
        let reused = InboundFingerprint(
            raw: mail(Self.original.replacingOccurrences(of: "jammed", with: "on fire")))
        #expect(first.messageID == "m1@customer.test")
        #expect(first.dedupeKey == redelivered.dedupeKey)
        #expect(first.dedupeKey == bareLF.dedupeKey)
        #expect(first.dedupeKey != reused.dedupeKey)
        #expect(first.from == "alice@customer.test")
        #expect(first.subject == "Printer")
    }

    @Test(
        "a stored row reads back field for field, processed or not; an outcome this version does not know throws",
        arguments: StoreBackend.allCases)
    func rowReadsBack(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let stored = try await store.receive(channelId: channel, raw: mail(Self.original), mailboxUid: "7")
        let pending = try #require(try await store.inbound(id: stored.inboundId))
        #expect(pending.channelId == channel)
        #expect(pending.raw == Data(mail(Self.original)))
        #expect(pending.mailboxUid == "7")
        #expect(pending.messageId == "m1@customer.test")
        #expect(pending.fromAddress == "alice@customer.test")
        #expect(pending.subject == "Printer")
        #expect(pending.outcome == nil && pending.processedAt == nil && pending.requestKey == nil)
        #expect(pending.attempts == 0 && !pending.rateExempt)
        #expect(pending.contentHash == InboundFingerprint(raw: mail(Self.original)).contentHash)
        let disposition = try await store.process(
            MailReading(raw: mail(Self.original)), inboundId: stored.inboundId, policy: .init())
        let processed = try #require(try await store.inbound(id: stored.inboundId))
        #expect(processed.outcome == .created)
        #expect(processed.requestKey == disposition.requestKey)
        #expect(processed.processedAt != nil)
        #expect(abs(processed.fetchedAt.timeIntervalSince(pending.fetchedAt)) < 0.001)
        _ = try await store.write { db in
            try db.execute(sql: "UPDATE inbound SET outcome = 'teleported' WHERE id = ?", arguments: [stored.inboundId])
        }
        await #expect(throws: (any Error).self) { try await store.inbound(id: stored.inboundId) }
    }

    @Test(
        "a different mail that reuses a Message-ID is stored and becomes its own request",
        arguments: StoreBackend.allCases)
    func reusedMessageID(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let first = try await store.receive(channelId: channel, raw: mail(Self.original), mailboxUid: "1")
        let other = try await store.receive(
            channelId: channel, raw: mail(Self.original.replacingOccurrences(of: "jammed", with: "on fire")),
            mailboxUid: "2")
        guard case .stored(let a) = first, case .stored(let b) = other else {
            Issue.record("both mails must be stored, got \(first) and \(other)")
            return
        }
        #expect(a != b)
        let stored = try #require(try await store.inbound(id: b))
        #expect([UInt8](stored.raw) == mail(Self.original.replacingOccurrences(of: "jammed", with: "on fire")))
    }

    @Test(
        "a row stored before content hashes still recognises its mail, so an upgrade takes nothing twice",
        arguments: StoreBackend.allCases)
    func legacyKey(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let raw = mail(Self.original)
        let id = try await store.write { db in
            try db.insertReturningId(
                sql: """
                    INSERT INTO inbound (channelId, dedupeKey, messageId, raw, mailboxUid, fetchedAt)
                    VALUES (?, 'mid:m1@customer.test', 'm1@customer.test', ?, '4', ?)
                    """, arguments: [channel, Data(raw), Date()])
        }
        #expect(try await store.receive(channelId: channel, raw: raw, mailboxUid: "4") == .pending(id))
        let other = mail(Self.original.replacingOccurrences(of: "jammed", with: "fine"))
        #expect(try await store.receive(channelId: channel, raw: other, mailboxUid: "5") != .pending(id))
    }

    @Test("the writer syncs every commit (synchronous=FULL), not GRDB's NORMAL")
    func synchronousFull() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try DeskStore(path: directory.appendingPathComponent("d.sqlite").path, secrets: SecretBox())
        let level = try await store.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(level == 2)
    }

    @Test(
        "writing another request's key in a subject does not join it; the reporter's own reply does",
        arguments: StoreBackend.allCases)
    func subjectKeyIsNoAuthority(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        #expect(try await deliver(store, channel: channel, Self.original) == .created("SD-1"))
        let intruder = try await deliver(
            store, channel: channel,
            """
            From: mallory@elsewhere.test
            To: help@desk.test
            Cc: spy@elsewhere.test
            Subject: Re: [SD-1] Printer
            Message-ID: <x1@elsewhere.test>
            In-Reply-To: <m1@customer.test>

            Add me please.
            """)
        guard case .created(let key, let note) = intruder else {
            Issue.record("expected a new request, got \(intruder)")
            return
        }
        #expect(key == "SD-2")
        #expect(note?.contains("not added to SD-1") == true)
        #expect(try await store.request(key: "SD-1").comments.isEmpty)
        #expect(try await store.participants(requestKey: "SD-1").isEmpty)
        let log = try await store.processingLog(channelAddress: nil, since: nil, limit: 1)
        #expect(log.first?.detail?.contains("not added to SD-1") == true)
        let own = try await deliver(
            store, channel: channel,
            """
            From: alice@customer.test
            To: help@desk.test
            Cc: bob@customer.test
            Subject: Re: [SD-1] Printer
            Message-ID: <m2@customer.test>

            Still jammed.
            """)
        #expect(own == .commented("SD-1"))
        #expect(try await store.participants(requestKey: "SD-1") == ["bob@customer.test"])
    }

    @Test(
        "whoever answers a notification carries its reply token and joins; a forged token does not",
        arguments: StoreBackend.allCases)
    func replyToken(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        #expect(try await deliver(store, channel: channel, Self.original) == .created("SD-1"))
        let sent = try await store.addAgentComment(
            requestKey: "SD-1", author: "agent@desk.test", body: "Try turning it off", isPublic: true)
        let notification = try #require(sent.notification)
        let composed = MailParser.parse([UInt8](notification.raw))
        let token = ReplyToken.make(requestKey: "SD-1", secrets: store.secrets)
        #expect(notification.messageId.contains(token.token))
        #expect(composed.replyTo.first?.address == "help+sd-1.\(token.token)@desk.test")
        // Alice's colleague answers from another address: the In-Reply-To brings the token back.
        let colleague = try await deliver(
            store, channel: channel,
            """
            From: carol@customer.test
            To: help+sd-1.\(token.token)@desk.test
            Subject: Re: [SD-1] Printer
            Message-ID: <c1@customer.test>
            In-Reply-To: <\(notification.messageId)>

            It works now.
            """)
        #expect(colleague == .commented("SD-1"))
        // The plus address alone (a client that drops In-Reply-To) is enough, and is not a participant.
        let plusOnly = try await deliver(
            store, channel: channel,
            """
            From: dave@customer.test
            To: help+sd-1.\(token.token)@desk.test
            Subject: thanks
            Message-ID: <d1@customer.test>

            Thanks.
            """)
        #expect(plusOnly == .commented("SD-1"))
        #expect(try await store.participants(requestKey: "SD-1").isEmpty)
        let forged = try await deliver(
            store, channel: channel,
            """
            From: mallory@elsewhere.test
            To: help+sd-1.aaaaaaaaaaaaaaaa@desk.test
            Subject: Re: [SD-1] Printer
            Message-ID: <f1@elsewhere.test>
            In-Reply-To: <postdesk.sd-1.aaaaaaaaaaaaaaaa.0@desk.test>

            Let me in.
            """)
        guard case .created = forged else {
            Issue.record("a forged token must not join, got \(forged)")
            return
        }
        // An agent of the project may always add to its requests.
        let agent = try await deliver(
            store, channel: channel,
            """
            From: agent@desk.test
            To: help@desk.test
            Subject: Re: [SD-1] Printer
            Message-ID: <a1@desk.test>

            Closing this.
            """)
        #expect(agent == .commented("SD-1"))
    }

    @Test(
        "more than N mails an hour from one sender are held; release processes them, drop ignores them",
        arguments: StoreBackend.allCases)
    func rateBreaker(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let policy = IntakePolicy(senderHourlyLimit: 3)
        var outcomes: [InboundOutcome] = []
        for number in 1...5 {
            let disposition = try await deliver(
                store, channel: channel,
                """
                From: robot@customer.test
                To: help@desk.test
                Subject: Alert \(number)
                Message-ID: <alert\(number)@customer.test>

                Disk full.
                """, policy: policy)
            outcomes.append(disposition.outcome)
        }
        #expect(outcomes == [.created, .created, .created, .held, .held])
        let held = try await store.processingLog(channelAddress: nil, since: nil, outcomes: [.held], limit: 10)
        #expect(held.count == 2)
        #expect(held.first?.detail?.contains("postdesk inbound release") == true)
        let first = try #require(held.last?.inboundId)
        #expect(try await store.releaseHeld(.id(first)) == [first])
        let mail = try #require(try await store.inbound(id: first))
        let released = try await store.process(MailReading(raw: [UInt8](mail.raw)), inboundId: first, policy: policy)
        #expect(released == .created("SD-4"))
        let dropped = try await store.dropHeld(.sender("robot@customer.test"))
        #expect(dropped.count == 1)
        #expect(try await store.processingLog(channelAddress: nil, since: nil, outcomes: [.held], limit: 10).isEmpty)
        await #expect(throws: DeskError.self) { try await store.releaseHeld(.id(first)) }
    }

    @Test(
        "a mail that keeps failing is counted, quarantined after its attempts, and can be retried",
        arguments: StoreBackend.allCases)
    func quarantine(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let policy = IntakePolicy(maxAttempts: 2)
        let id = try await store.receive(channelId: channel, raw: mail(Self.original), mailboxUid: "1").inboundId
        for attempt in 1...2 {
            let claimed = try #require(try await store.claimForProcessing(inboundId: id, policy: policy))
            #expect(claimed.attempts == attempt)
            try await store.recordAttemptFailure(inboundId: id, reason: "parser fell over", policy: policy)
        }
        #expect(try await store.claimForProcessing(inboundId: id, policy: policy) == nil)
        let failed = try await store.processingLog(channelAddress: nil, since: nil, outcomes: [.failed], limit: 5)
        #expect(failed.first?.detail?.contains("quarantined after 2 attempts: parser fell over") == true)
        #expect(try await store.retryFailed(.all) == [id])
        let again = try #require(try await store.claimForProcessing(inboundId: id, policy: policy))
        #expect(again.attempts == 1)
        #expect(try await store.process(MailReading(raw: [UInt8](again.raw)), inboundId: id) == .created("SD-1"))
    }
}
