import Foundation
import GRDB
import MailMessage
import Testing

@testable import ServiceDesk

/// Raw mail text with CRLF line ends.
private func mail(_ text: String) -> [UInt8] {
    Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
}

/// A fresh SQLite file with project SD (signup as given) and one channel; shared by the suites that need a file.
func fileDesk(signup: SignupPolicy = .public) async throws -> (DeskStore, Int64, URL) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pd-batch-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let store = try DeskStore(path: directory.appendingPathComponent("d.sqlite").path, secrets: SecretBox())
    _ = try await store.createProject(key: "SD", name: "Service Desk", signup: signup)
    _ = try await store.addRequestType(
        projectKey: "SD", name: "Get help",
        fields: [
            RequestField(name: "summary", visible: true, required: true),
            RequestField(name: "description", visible: true, required: true),
        ])
    let channel = try await store.linkChannel(
        ChannelDraft(
            projectKey: "SD", address: "help@desk.test", protocol: .imap, host: "127.0.0.1", port: 1, tls: .none,
            caFile: nil, username: "help@desk.test", password: "x", requestTypeName: "Get help"),
        watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
    return (store, try #require(channel.id), directory)
}

/// What the processing log and the queue say, comparable between two stores (sorted: a batch shares one
/// fetch time, so the log's order among its lines is by id, not by the moment each was stored).
private func summary(of store: DeskStore) async throws -> [String] {
    let log = try await store.processingLog(channelAddress: nil, since: nil, limit: 100).map {
        "\($0.outcome.rawValue) \($0.subject ?? "-") \($0.requestKey ?? "-") \($0.detail ?? "")"
    }
    var queue: [String] = []
    for request in try await store.queue(projectKey: "SD") {
        let detail = try await store.request(key: request.key)
        let participants = try await store.participants(requestKey: request.key)
        queue.append(
            "\(request.key) \(request.summary) by \(request.reporter), comments \(detail.comments.map(\.body)), "
                + "participants \(participants)")
    }
    return log.sorted() + queue.sorted()
}

@Suite("Batched intake: many mails per transaction, each as if alone")
struct BatchIntakeTests {
    static func printer(_ id: String, body: String = "The printer is jammed.", from: String = "alice@customer.test")
        -> [UInt8]
    {
        mail(
            """
            From: \(from)
            To: help@desk.test
            Subject: Printer \(id)
            Message-ID: <\(id)@customer.test>

            \(body)
            """)
    }

    @Test("a mail twice in one batch is stored once; the copy under another UID is logged as a duplicate")
    func sameMailTwiceInOneBatch() async throws {
        let (store, channel, directory) = try await fileDesk()
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = Self.printer("a")
        let outcomes = try await store.receive(
            channelId: channel,
            messages: [
                FetchedMail(raw: a, mailboxUid: "1"), FetchedMail(raw: a, mailboxUid: "1"),
                FetchedMail(raw: a, mailboxUid: "2"), FetchedMail(raw: Self.printer("b"), mailboxUid: "3"),
            ])
        guard case .stored(let first) = outcomes[0], case .stored(let other) = outcomes[3] else {
            Issue.record("the first copy and the other mail must be stored, got \(outcomes)")
            return
        }
        #expect(outcomes[1] == .pending(first))
        #expect(outcomes[2] == .pending(first))
        #expect(first != other)
        let log = try await store.processingLog(channelAddress: nil, since: nil, limit: 10)
        // The same UID again is a re-fetch; only the copy under UID 2 is a duplicate line.
        #expect(log.filter { $0.outcome == .duplicate }.count == 1)
        #expect(log.filter { $0.outcome == .pending }.count == 2)
        let stored = try #require(try await store.inbound(id: first))
        #expect([UInt8](stored.raw) == a)
    }

    @Test("a re-fetch answers pending before processing and duplicate after; a reused Message-ID is its own mail")
    func refetchAndReusedMessageID() async throws {
        let (store, channel, directory) = try await fileDesk()
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = Self.printer("a")
        let reused = Self.printer("a", body: "Now it is on fire.")
        let first = try await store.receive(
            channelId: channel,
            messages: [FetchedMail(raw: a, mailboxUid: "1"), FetchedMail(raw: reused, mailboxUid: "2")])
        guard case .stored(let idA) = first[0], case .stored(let idReused) = first[1] else {
            Issue.record("a mail and another mail reusing its Message-ID are both stored, got \(first)")
            return
        }
        #expect(idA != idReused)
        let again = try await store.receive(channelId: channel, messages: [FetchedMail(raw: a, mailboxUid: "1")])
        #expect(again == [.pending(idA)])
        _ = try await store.process(MailReading(raw: a), inboundId: idA)
        let afterProcessing = try await store.receive(
            channelId: channel,
            messages: [FetchedMail(raw: a, mailboxUid: "1"), FetchedMail(raw: reused, mailboxUid: "2")])
        #expect(afterProcessing == [.duplicate(idA), .pending(idReused)])
    }

    @Test("batch receive answers exactly what receiving the same mails one by one answers, with the same log")
    func batchReceiveEqualsOneByOne() async throws {
        let (single, singleChannel, singleDirectory) = try await fileDesk()
        let (batched, batchedChannel, batchedDirectory) = try await fileDesk()
        defer {
            try? FileManager.default.removeItem(at: singleDirectory)
            try? FileManager.default.removeItem(at: batchedDirectory)
        }
        let deliveries: [FetchedMail] = [
            FetchedMail(raw: Self.printer("a"), mailboxUid: "1"),
            FetchedMail(raw: Self.printer("b"), mailboxUid: "2"),
            FetchedMail(raw: Self.printer("a"), mailboxUid: "1"),
            FetchedMail(raw: Self.printer("a"), mailboxUid: "7"),
            FetchedMail(raw: Self.printer("a", body: "Different."), mailboxUid: "3"),
            FetchedMail(raw: mail("From: x@customer.test\nSubject: no id\n\nbody"), mailboxUid: "4"),
            FetchedMail(raw: mail("From: x@customer.test\nSubject: no id\n\nbody"), mailboxUid: nil),
        ]
        var one: [ReceiveOutcome] = []
        for delivery in deliveries {
            one.append(
                try await single.receive(channelId: singleChannel, raw: delivery.raw, mailboxUid: delivery.mailboxUid))
        }
        let many = try await batched.receive(channelId: batchedChannel, messages: deliveries)
        #expect(many == one)
        #expect(try await summary(of: batched) == summary(of: single))
    }

    /// The mixed batch of the process tests, in order. Carol is blocked; the robot may send two an hour; the
    /// "explode" mail makes the database refuse its request.
    static let mixed: [[UInt8]] = [
        printer("m1"),
        mail(
            """
            From: alice@customer.test
            To: help@desk.test
            Cc: bob@customer.test
            Subject: Re: Printer m1
            Message-ID: <m2@customer.test>
            In-Reply-To: <m1@customer.test>

            Still jammed.
            """),
        printer("c1", from: "carol@blocked.test"),
        printer("r1", from: "robot@customer.test"),
        printer("r2", from: "robot@customer.test"),
        printer("explode", from: "dave@customer.test"),
        printer("r3", from: "robot@customer.test"),
        mail(
            """
            From: mallory@elsewhere.test
            To: help@desk.test
            Subject: Re: [SD-1] Printer m1
            Message-ID: <x1@elsewhere.test>

            Let me in.
            """),
        mail(
            """
            From: bob@customer.test
            To: help@desk.test
            Subject: Re: [SD-1] Printer m1
            Message-ID: <b1@customer.test>

            Me too.
            """),
    ]

    /// A store ready for the mixed batch: the block rule, and a trigger refusing the "explode" request.
    static func mixedDesk(trigger: String = "ABORT") async throws -> (DeskStore, Int64, URL) {
        let (store, channel, directory) = try await fileDesk()
        _ = try await store.addCustomerRule(projectKey: "SD", kind: .block, pattern: "carol@blocked.test")
        _ = try await store.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER refuse BEFORE INSERT ON request WHEN NEW.summary = 'Printer explode'
                    BEGIN SELECT RAISE(\(trigger), 'disk on fire'); END
                    """)
        }
        return (store, channel, directory)
    }

    /// The mixed batch one by one, each mail received and processed alone (the path before batching).
    static func oneByOne() async throws -> (dispositions: [Disposition?], summary: [String]) {
        let (store, channel, directory) = try await mixedDesk()
        defer { try? FileManager.default.removeItem(at: directory) }
        let policy = IntakePolicy(senderHourlyLimit: 2)
        var dispositions: [Disposition?] = []
        for (n, raw) in mixed.enumerated() {
            let id = try await store.receive(channelId: channel, raw: raw, mailboxUid: "\(n)").inboundId
            dispositions.append(try? await store.process(MailReading(raw: raw), inboundId: id, policy: policy))
        }
        return (dispositions, try await summary(of: store))
    }

    @Test(
        "batch process gives the outcomes one-by-one processing gives: new, a reply to a request made in the same batch, refused, rate-limited, and only the failing mail fails",
        arguments: ["ABORT", "ROLLBACK"])
    func batchProcessEqualsOneByOne(trigger: String) async throws {
        let expected = try await Self.oneByOne()
        let (store, channel, directory) = try await Self.mixedDesk(trigger: trigger)
        defer { try? FileManager.default.removeItem(at: directory) }
        let policy = IntakePolicy(senderHourlyLimit: 2)
        let outcomes = try await store.receive(
            channelId: channel,
            messages: Self.mixed.enumerated().map { FetchedMail(raw: $1, mailboxUid: "\($0)") })
        let ids = outcomes.map(\.inboundId)
        let claimed = try await store.claimForProcessing(inboundIds: ids, policy: policy)
        #expect(claimed.compactMap(\.id) == ids)
        let results = await store.process(
            claimed.map { ReadInbound(inboundId: $0.id ?? 0, reading: MailReading(raw: [UInt8]($0.raw))) },
            policy: policy)
        let dispositions = results.map { try? $0.get() }
        #expect(dispositions == expected.dispositions)
        #expect(
            dispositions == [
                .created("SD-1"), .commented("SD-1"),
                .ignored(
                    "blocked: carol@blocked.test matches carol@blocked.test on the block list of project SD"),
                .created("SD-2"), .created("SD-3"), nil, dispositions[6], dispositions[7], .commented("SD-1"),
            ])
        guard case .held = dispositions[6] else {
            Issue.record("the robot's third mail is held, got \(String(describing: dispositions[6]))")
            return
        }
        guard case .created("SD-4", let note) = dispositions[7] else {
            Issue.record("mallory gets a request of her own, got \(String(describing: dispositions[7]))")
            return
        }
        #expect(note?.contains("not added to SD-1") == true)
        guard case .failure(let error) = results[5] else { return }
        #expect(error.message.contains("disk on fire"))
        #expect(try await summary(of: store) == expected.summary)
        // Only the failing mail is left to try again.
        #expect(try await store.pendingInboundIds(limit: 10) == [ids[5]])
    }

    @Test("claims in one transaction count each attempt once and quarantine a mail out of attempts")
    func batchClaims() async throws {
        let (store, channel, directory) = try await fileDesk()
        defer { try? FileManager.default.removeItem(at: directory) }
        let policy = IntakePolicy(maxAttempts: 1)
        let ids = try await store.receive(
            channelId: channel,
            messages: [
                FetchedMail(raw: Self.printer("a"), mailboxUid: "1"),
                FetchedMail(raw: Self.printer("b"), mailboxUid: "2"),
            ]
        ).map(\.inboundId)
        let claimed = try await store.claimForProcessing(inboundIds: ids + [ids[0]], policy: policy)
        #expect(claimed.map(\.attempts) == [1, 1])
        _ = try await store.process(MailReading(raw: Self.printer("b")), inboundId: ids[1], policy: policy)
        try await store.recordAttemptFailure(inboundId: ids[0], reason: "parser fell over", policy: policy)
        #expect(try await store.claimForProcessing(inboundIds: ids, policy: policy).isEmpty)
        let failed = try await store.processingLog(channelAddress: nil, since: nil, outcomes: [.failed], limit: 5)
        #expect(failed.map(\.inboundId) == [ids[0]])
        #expect(failed.first?.detail?.contains("quarantined after 1 attempts: parser fell over") == true)
    }

    @Test("a reading trims exactly the whitespace Foundation trims, by scalar, for every scalar")
    func trimming() {
        let samples = [
            "", " ", "\u{3000}text\u{3000}", "\t\n a b \r\n", "\u{00A0}\u{2028}x\u{2029}\u{0085}", "x\u{301} ",
            " \u{301}", "\u{200B}zero width\u{200B}", "\u{FEFF}bom", "日本語\u{3000}\n", "\u{180E}m\u{180E}",
        ]
        for sample in samples {
            #expect(sample.trimmingUnicodeWhitespace() == sample.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let foundation = CharacterSet.whitespacesAndNewlines
        let differing = (0...0x10FFFF).compactMap(Unicode.Scalar.init).filter {
            $0.isWhitespaceOrNewline != foundation.contains($0)
        }
        #expect(differing.isEmpty, "\(differing.prefix(10).map { String($0.value, radix: 16) })")
    }
}
