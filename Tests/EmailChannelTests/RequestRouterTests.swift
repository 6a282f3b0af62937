import Foundation
import Logging
import Testing

@testable import EmailChannel
@testable import ServiceDesk

/// The router over a real (in-memory) SQLite store and the real MIME parser.
@Suite("Request router")
struct RequestRouterTests {
    static func desk(signup: SignupPolicy = .public) async throws -> (DeskStore, RequestRouter, Int64) {
        let store = try DeskStore.inMemory()
        try await makeServiceDeskProject(in: store, signup: signup)
        let channel = try await store.linkChannel(
            ChannelDraft(
                projectKey: "SD", address: "help@desk.test", protocol: .imap, host: "127.0.0.1", port: 1, tls: .none,
                caFile: nil, username: "help@desk.test", password: "x", requestTypeName: "Get help"),
            watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
        let router = RequestRouter(
            store: store, logger: Logger(label: "test"))
        return (store, router, try #require(channel.id))
    }

    static func store(_ raw: String, in store: DeskStore, channel: Int64) async throws {
        let bytes = Data(raw.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        _ = try await store.receive(channelId: channel, raw: Array(bytes), mailboxUid: nil)
    }

    @Test("stored mail left by an earlier run is processed at start")
    func drainsAtStart() async throws {
        let (store, router, channel) = try await Self.desk()
        try await Self.store(
            """
            From: "Alice A." <Alice@Customer.test>
            To: help@desk.test
            Subject: =?UTF-8?B?5Y2w5Yi35qmf44GM5YuV44GL44Gq44GE?=
            Message-ID: <m1@customer.test>

            The printer does not work.
            """, in: store, channel: channel)
        try await router.drainPending()
        let queue = try await store.queue(projectKey: "SD")
        #expect(queue.map(\.key) == ["SD-1"])
        #expect(queue.first?.summary == "印刷機が動かない")
        #expect(queue.first?.reporter == "alice@customer.test")
        #expect(queue.first?.description == "The printer does not work.")
    }

    @Test("an auto-reply is logged as ignored with its header")
    func autoReply() async throws {
        let (store, router, channel) = try await Self.desk()
        try await Self.store(
            """
            From: bob@customer.test
            Subject: Out of office
            Auto-Submitted: auto-replied
            Message-ID: <oof@customer.test>

            I am away.
            """, in: store, channel: channel)
        try await router.drainPending()
        #expect(try await store.queue(projectKey: "SD").isEmpty)
        let log = try await store.processingLog(channelAddress: "help@desk.test", since: nil, limit: 5)
        #expect(log.first?.outcome == .ignored)
        #expect(log.first?.detail?.contains("Auto-Submitted") == true)
    }

    @Test("a reply's quoted original is stripped from the comment")
    func replyStripped() async throws {
        let (store, router, channel) = try await Self.desk()
        try await Self.store(
            """
            From: alice@customer.test
            Subject: Printer
            Message-ID: <m1@customer.test>

            Broken.
            """, in: store, channel: channel)
        try await Self.store(
            """
            From: alice@customer.test
            Subject: Re: Printer
            Message-ID: <m2@customer.test>
            In-Reply-To: <m1@customer.test>

            Now it works.

            On Sat, 21 Nov 2026, Alice wrote:
            > Broken.
            """, in: store, channel: channel)
        try await router.drainPending()
        let detail = try await store.request(key: "SD-1")
        #expect(detail.comments.map(\.body) == ["Now it works."])
    }

    @Test("mail without a From is kept and logged, never dropped")
    func noSender() async throws {
        let (store, router, channel) = try await Self.desk()
        try await Self.store("Subject: who am I\n\nbody", in: store, channel: channel)
        try await router.drainPending()
        let log = try await store.processingLog(channelAddress: nil, since: nil, limit: 5)
        #expect(log.count == 1)
        #expect(log.first?.outcome == .ignored)
        #expect(log.first?.detail == "no sender address")
    }

    @Test("a mail whose processing keeps failing is retried, then quarantined, and the next mail still flows")
    func quarantined() async throws {
        let (store, router, channel) = try await Self.desk()
        // A real SQLite refusal: every new request is rejected, as a full disk or a bad row would be.
        try await store.writeSQLite { db in
            try db.execute(
                sql: "CREATE TRIGGER refuse BEFORE INSERT ON request BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
        }
        try await Self.store(
            "From: alice@customer.test\nSubject: Printer\nMessage-ID: <q1@customer.test>\n\nBroken.", in: store,
            channel: channel)
        for _ in 1...2 { try await router.drainPending() }
        let waiting = try await store.processingLog(channelAddress: nil, since: nil, limit: 5).first
        #expect(waiting?.outcome == .pending)
        #expect(waiting?.attempts == 2)
        #expect(waiting?.detail?.contains("disk on fire") == true)
        try await router.drainPending()
        let log = try await store.processingLog(channelAddress: nil, since: nil, limit: 5)
        #expect(log.first?.outcome == .failed)
        #expect(log.first?.detail?.contains("quarantined after 3 attempts") == true)
        #expect(log.first?.detail?.contains("disk on fire") == true)
        try await store.writeSQLite { db in try db.execute(sql: "DROP TRIGGER refuse") }
        try await Self.store(
            "From: bob@customer.test\nSubject: Scanner\nMessage-ID: <q2@customer.test>\n\nAlso broken.", in: store,
            channel: channel)
        try await router.drainPending()
        #expect(try await store.queue(projectKey: "SD").map(\.summary) == ["Scanner"])
    }

    @Test("in one batch only the mail whose processing fails gets an attempt failure; the others are processed")
    func oneFailureInABatch() async throws {
        let (store, router, channel) = try await Self.desk()
        try await store.writeSQLite { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER refuse BEFORE INSERT ON request WHEN NEW.summary = 'Scanner'
                    BEGIN SELECT RAISE(ABORT, 'disk on fire'); END
                    """)
        }
        for (n, subject) in ["Printer", "Scanner", "VPN"].enumerated() {
            try await Self.store(
                "From: user\(n)@customer.test\nSubject: \(subject)\nMessage-ID: <b\(n)@customer.test>\n\nBroken.",
                in: store, channel: channel)
        }
        try await router.drainPending()
        #expect(try await store.queue(projectKey: "SD").map(\.summary).sorted() == ["Printer", "VPN"])
        let log = try await store.processingLog(channelAddress: nil, since: nil, limit: 5)
        let failed = try #require(log.first { $0.subject == "Scanner" })
        #expect(failed.outcome == .pending)
        #expect(failed.attempts == 1)
        #expect(failed.detail?.contains("disk on fire") == true)
        #expect(log.filter { $0.outcome == .created }.allSatisfy { $0.attempts == 1 && $0.detail == nil })
    }

    @Test("the watchdog gives up on work that does not finish and returns what does")
    func watchdog() async {
        let slow = await Watchdog.run(timeout: .milliseconds(50)) { () -> Int in
            Thread.sleep(forTimeInterval: 2)
            return 1
        }
        #expect(slow == nil)
        let fast = await Watchdog.run(timeout: .seconds(30)) { 42 }
        #expect(fast == 42)
    }

    @Test(
        "a batch under the watchdog answers in order, gives up only on the pieces that hang, and does not wait for them",
        .timeLimit(.minutes(1)), arguments: [[3], [0, 1], [5, 6, 19]])
    func watchdogBatch(hanging: [Int]) async {
        // The hanging pieces wait for the test, which lets them go only after the batch has answered: a watchdog
        // that waited for them would never answer.
        let release = DispatchSemaphore(value: 0)
        let answers = await Watchdog.map(count: 20, width: 2, timeout: .milliseconds(200)) { piece -> Int in
            if hanging.contains(piece) { release.wait() }
            return piece * 10
        }
        for _ in hanging { release.signal() }
        #expect(answers.count == 20)
        for (piece, answer) in answers.enumerated() {
            #expect(answer == (hanging.contains(piece) ? nil : piece * 10), "piece \(piece)")
        }
        #expect(await Watchdog.map(count: 0, width: 2, timeout: .seconds(1)) { $0 }.isEmpty)
    }
}
