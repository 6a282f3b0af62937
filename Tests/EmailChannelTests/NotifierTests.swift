import Foundation
import Logging
import MailServerHarness
import ServiceLifecycle
import Testing

@testable import EmailChannel
@testable import ServiceDesk

/// SMTP relay scripts for the fake server: EHLO with AUTH PLAIN, then the exchanges given. Message content lines
/// (anything that is not an SMTP command) are read without an answer; the final "." must be in the exchanges.
enum RelayScript {
    static let hello: [FakeMailScript.Exchange] = [
        .expect("EHLO", "250-relay.test", "250-AUTH PLAIN LOGIN", "250-8BITMIME", "250 ENHANCEDSTATUSCODES")
    ]
    static let login: [FakeMailScript.Exchange] = [.expect("AUTH PLAIN", "235 2.7.0 Authentication successful")]
    static let refusedLogin: [FakeMailScript.Exchange] = [
        .expect("AUTH PLAIN", "535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6")
    ]

    static func smtp(_ exchanges: [FakeMailScript.Exchange]) -> FakeMailScript {
        FakeMailScript(
            greeting: ["220 relay.test ESMTP"], tagged: false, exchanges: hello + exchanges,
            anytime: [
                .expect("QUIT", "221 2.0.0 Bye", then: .close),
                FakeMailScript.Exchange(
                    .regex("^(?!(MAIL FROM|RCPT TO|DATA|RSET|QUIT|EHLO|HELO|AUTH|NOOP|STARTTLS)\\b).*$"), reply: []),
            ],
            unexpectedReply: ["500 5.5.1 unexpected command (fake server script)"])
    }

    /// One message accepted for `recipients`.
    static func delivery(to recipients: [String], queuedAs id: String = "Q1") -> [FakeMailScript.Exchange] {
        [.expect("MAIL FROM:<help@desk.test>", "250 2.1.0 Ok")]
            + recipients.map { .expect("RCPT TO:<\($0)>", "250 2.1.5 Ok") }
            + [
                .expect("DATA", "354 End data with <CR><LF>.<CR><LF>"),
                .expect(regex: "^\\.$", "250 2.0.0 Ok: queued as \(id)"),
            ]
    }
}

/// A desk with project SD, a channel, the relay at `port`, and request SD-1 from alice (Cc `cc`).
struct NotifierDesk {
    static let alice = "alice@customer.test"
    let store: DeskStore

    init(relayPort: Int, cc: [String] = [], path: String? = nil) async throws {
        store = try path.map { try DeskStore(path: $0, secrets: SecretBox()) } ?? DeskStore.inMemory()
        try await makeServiceDeskProject(in: store, signup: .public)
        let channel = try await store.linkChannel(
            ChannelDraft(
                projectKey: "SD", address: "help@desk.test", protocol: .imap, host: "127.0.0.1", port: 1, tls: .none,
                caFile: nil, username: "help@desk.test", password: "x", requestTypeName: "Get help"),
            watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
        try await setRelay(port: relayPort)
        let copies = cc.isEmpty ? "" : "Cc: \(cc.joined(separator: ", "))\r\n"
        let raw =
            "From: \(Self.alice)\r\nTo: help@desk.test\r\n\(copies)Subject: Printer\r\nMessage-ID: <m1@customer.test>\r\n\r\nBroken.\r\n"
        _ = try await store.receive(channelId: try #require(channel.id), raw: Array(raw.utf8), mailboxUid: nil)
        let router = RequestRouter(store: store, logger: Logger(label: "t"))
        try await router.drainPending()
    }

    func setRelay(port: Int) async throws {
        try await store.setSMTP(
            host: "127.0.0.1", port: port, tls: .none, caFile: nil, fromAddress: "help@desk.test",
            username: "help@desk.test", password: "relay-password")
    }

    /// A public agent comment on SD-1: one notification; returns its outbox id. The per-recipient limit is
    /// off: these tests send many notifications to one customer on purpose (OutboxStoreTests covers the limit).
    @discardableResult
    func notify(_ body: String = "We are on it") async throws -> Int64 {
        let result = try await store.addAgentComment(
            requestKey: "SD-1", author: "agent@desk.test", body: body, isPublic: true, recipientHourlyLimit: 0)
        return try #require(result.notification?.id)
    }

    func entries() async throws -> [OutboxEntry] {
        try await store.outboxEntries().sorted { $0.id < $1.id }
    }
}

/// Waits (in real time) until `condition` holds; the notifier's own time is the manual clock.
func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(20)
    while try await !condition() {
        if ContinuousClock.now > deadline { throw BackoffTestError(what) }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// The notifier against a scripted relay, with an injected clock and a real store: relay failures hold the
/// outbox without counting attempts, message failures are recorded per message and recipient, all due
/// notifications share one session, and a delivery the store cannot record is never sent twice.
@Suite("Notifier against a scripted relay", .timeLimit(.minutes(1)))
struct NotifierTests {
    static let noJitter = RetryPolicy(base: .seconds(30), maximum: .seconds(300), jitter: 0)

    static func notifier(_ desk: NotifierDesk, clock: ManualClock) -> Notifier {
        Notifier(
            store: desk.store, relayPolicy: noJitter,
            recordingPolicy: RetryPolicy(base: .seconds(1), maximum: .seconds(60), jitter: 0),
            pollInterval: .seconds(5), clock: clock, logger: Logger(label: "notifier-test"))
    }

    static func running(_ notifier: Notifier, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await notifier.run() }
            try await body()
            group.cancelAll()
        }
    }

    static func count(_ prefix: String, in server: FakeMailServer) -> Int {
        server.receivedLines.filter { $0.uppercased().hasPrefix(prefix) }.count
    }

    @Test("a 535 holds the outbox without counting attempts; once the relay takes the login, all are sent")
    func refusedLoginHoldsOutbox() async throws {
        let server = try FakeMailServer(RelayScript.smtp(RelayScript.refusedLogin))
        defer { server.stop() }
        let desk = try await NotifierDesk(relayPort: server.port)
        try await desk.notify("first")
        try await desk.notify("second")
        let clock = ManualClock()
        let notifier = Self.notifier(desk, clock: clock)
        try await Self.running(notifier) {
            try await waitUntil("the relay's backoff") { clock.pendingSleeps == [.seconds(30)] }
            #expect(server.connectionCount == 1)
            let status = await notifier.status()
            #expect(status.state == .failing)
            #expect(status.failures == 1)
            #expect(status.diagnosis?.cause == .badCredentials)
            #expect(status.diagnosis?.serverText == "535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6")
            #expect(status.diagnosis?.fix.contains("postdesk smtp set") == true)
            for entry in try await desk.entries() {
                #expect(entry.status == .pending)
                #expect(entry.attempts == 0)
                #expect(entry.lastReply == nil)
            }

            // A new notification while the relay fails waits for the relay's backoff: no login storm.
            try await desk.notify("third")
            await notifier.ring()
            clock.advance(by: .seconds(29))
            try await Task.sleep(for: .milliseconds(300))
            #expect(server.connectionCount == 1)
            #expect(clock.pendingSleeps == [.seconds(1)])

            // The relay's admin fixes the account: at the end of the backoff all three go out in one session.
            server.replaceScript(
                RelayScript.smtp(
                    RelayScript.login + RelayScript.delivery(to: [NotifierDesk.alice], queuedAs: "A")
                        + RelayScript.delivery(to: [NotifierDesk.alice], queuedAs: "B")
                        + RelayScript.delivery(to: [NotifierDesk.alice], queuedAs: "C")))
            clock.advance(by: .seconds(1))
            try await waitUntil("all sent") { try await desk.entries().allSatisfy { $0.status == .sent } }
        }
        let entries = try await desk.entries()
        #expect(entries.map(\.attempts) == [1, 1, 1])
        #expect(entries.map(\.lastReply) == ["A", "B", "C"].map { "250 2.0.0 Ok: queued as \($0)" })
        #expect(server.connectionCount == 2)
        #expect(server.unexpectedLines.isEmpty)
        let status = await notifier.status()
        #expect(status.state == .ok)
        #expect(status.diagnosis == nil)
        #expect(status.lastDeliveryAt != nil)
    }

    @Test("new relay settings (smtp set) are tried at once, whatever the backoff")
    func newSettingsRetryAtOnce() async throws {
        let refusing = try FakeMailServer(RelayScript.smtp(RelayScript.refusedLogin))
        defer { refusing.stop() }
        let working = try FakeMailServer(
            RelayScript.smtp(RelayScript.login + RelayScript.delivery(to: [NotifierDesk.alice])))
        defer { working.stop() }
        let desk = try await NotifierDesk(relayPort: refusing.port)
        try await desk.notify()
        let clock = ManualClock()
        let notifier = Self.notifier(desk, clock: clock)
        try await Self.running(notifier) {
            try await waitUntil("the relay's backoff") { clock.pendingSleeps == [.seconds(30)] }
            try await desk.setRelay(port: working.port)
            await notifier.retryRelayNow()
            try await waitUntil("sent through the new relay") {
                try await desk.entries().first?.status == .sent
            }
        }
        #expect(refusing.connectionCount == 1)
        #expect(working.connectionCount == 1)
        #expect(try await desk.entries().first?.attempts == 1)
    }

    @Test("a graceful shutdown (SIGTERM) sends what is due once more before the notifier stops")
    func drainsAtShutdown() async throws {
        let server = try FakeMailServer(
            RelayScript.smtp(RelayScript.login + RelayScript.delivery(to: [NotifierDesk.alice])))
        defer { server.stop() }
        let desk = try await NotifierDesk(relayPort: server.port)
        let clock = ManualClock()
        let notifier = Self.notifier(desk, clock: clock)
        let group = ServiceGroup(
            configuration: .init(services: [notifier], logger: Logger(label: "notifier-test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // The notifier has looked at the empty outbox and waits for its poll, which never comes.
            try await waitUntil("the notifier waits") { clock.pendingSleeps == [.seconds(5)] }
            // A comment committed without ringing the notifier, just as the server is told to stop.
            try await desk.notify()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try await desk.entries().first?.status == .sent)
        #expect(server.connectionCount == 1)
    }

    @Test("our sender refused at MAIL FROM is a relay failure: nothing is counted, the rest is not tried")
    func senderRefusedForAll() async throws {
        let server = try FakeMailServer(
            RelayScript.smtp(
                RelayScript.login + [
                    .expect("MAIL FROM", "553 5.7.1 <help@desk.test>: Sender address rejected: not owned by user"),
                    .expect("RSET", "250 2.0.0 Ok"),
                ]))
        defer { server.stop() }
        let desk = try await NotifierDesk(relayPort: server.port)
        try await desk.notify("first")
        try await desk.notify("second")
        let clock = ManualClock()
        let notifier = Self.notifier(desk, clock: clock)
        try await Self.running(notifier) {
            try await waitUntil("the relay's backoff") { clock.pendingSleeps == [.seconds(30)] }
        }
        let status = await notifier.status()
        #expect(status.state == .failing)
        #expect(status.diagnosis?.cause == .senderRefused)
        #expect(status.diagnosis?.summary.contains("help@desk.test") == true)
        #expect(try await desk.entries().map(\.attempts) == [0, 0])
        #expect(Self.count("MAIL FROM", in: server) == 1)
        #expect(Self.count("QUIT", in: server) == 1)
        #expect(server.unexpectedLines.isEmpty)
    }

    @Test("one of two recipients refused: recorded with its reply, the other gets the message, and it is sent")
    func oneRecipientRefused() async throws {
        let bob = "bob@customer.test"
        let server = try FakeMailServer(
            RelayScript.smtp(
                RelayScript.login + [
                    .expect("MAIL FROM:<help@desk.test>", "250 2.1.0 Ok"),
                    .expect("RCPT TO:<\(NotifierDesk.alice)>", "250 2.1.5 Ok"),
                    .expect("RCPT TO:<\(bob)>", "550 5.1.1 <\(bob)>: Recipient address rejected: User unknown"),
                    .expect("DATA", "354 go ahead"),
                    .expect(regex: "^\\.$", "250 2.0.0 Ok: queued as R1"),
                ]))
        defer { server.stop() }
        let desk = try await NotifierDesk(relayPort: server.port, cc: [bob])
        try await desk.notify()
        #expect(try await desk.entries().first?.recipients == [NotifierDesk.alice, bob])
        let clock = ManualClock()
        let notifier = Self.notifier(desk, clock: clock)
        try await Self.running(notifier) {
            try await waitUntil("sent") { try await desk.entries().first?.status == .sent }
        }
        let entry = try #require(try await desk.entries().first)
        #expect(entry.refusedRecipients == [bob: "550 5.1.1 <\(bob)>: Recipient address rejected: User unknown"])
        #expect(entry.lastReply == "250 2.0.0 Ok: queued as R1")
        #expect(entry.attempts == 1)
        #expect(entry.sentAt != nil)
        #expect(server.unexpectedLines.isEmpty)
    }

    @Test("a 4xx after the content is retried with backoff; a 5xx to DATA fails for good, and RSET follows it")
    func messageFailures() async throws {
        let server = try FakeMailServer(
            RelayScript.smtp(
                RelayScript.login + [
                    .expect("MAIL FROM", "250 2.1.0 Ok"), .expect("RCPT TO", "250 2.1.5 Ok"),
                    .expect("DATA", "354 go ahead"),
                    .expect(regex: "^\\.$", "451 4.3.0 Temporary lookup failure"),
                    .expect("MAIL FROM", "250 2.1.0 Ok"), .expect("RCPT TO", "250 2.1.5 Ok"),
                    .expect("DATA", "554 5.7.1 Message refused by policy"),
                    .expect("RSET", "250 2.0.0 Ok"),
                    .expect("MAIL FROM", "250 2.1.0 Ok"), .expect("RCPT TO", "452 4.2.2 Mailbox full"),
                    .expect("RSET", "250 2.0.0 Ok"),
                ]))
        defer { server.stop() }
        let desk = try await NotifierDesk(relayPort: server.port)
        for body in ["later", "never", "full"] { try await desk.notify(body) }
        let before = Date()
        let clock = ManualClock()
        let notifier = Self.notifier(desk, clock: clock)
        try await Self.running(notifier) {
            try await waitUntil("all three answered") { try await desk.entries().allSatisfy { $0.attempts == 1 } }
        }
        let entries = try await desk.entries()
        #expect(entries.map(\.status) == [.pending, .failed, .pending])
        #expect(
            entries.map(\.lastReply) == [
                "451 4.3.0 Temporary lookup failure", "554 5.7.1 Message refused by policy", "452 4.2.2 Mailbox full",
            ])
        #expect(entries[2].refusedRecipients == [NotifierDesk.alice: "452 4.2.2 Mailbox full"])
        // RetryPolicy.notification: 30 s ± 20 % before the second attempt.
        for entry in [entries[0], entries[2]] {
            #expect(entry.nextAttemptAt > before.addingTimeInterval(23))
        }
        #expect(server.connectionCount == 1)
        #expect(server.unexpectedLines.isEmpty)
        #expect(await notifier.status().state == .ok)
    }

    @Test("N due notifications go over one session: one connection, one EHLO and login, N transactions, one QUIT")
    func oneSession() async throws {
        let count = 25
        let exchanges = (1...count).flatMap { RelayScript.delivery(to: [NotifierDesk.alice], queuedAs: "Q\($0)") }
        let server = try FakeMailServer(RelayScript.smtp(RelayScript.login + exchanges))
        defer { server.stop() }
        let desk = try await NotifierDesk(relayPort: server.port)
        for index in 1...count { try await desk.notify("comment \(index)") }
        let clock = ManualClock()
        let notifier = Self.notifier(desk, clock: clock)
        try await Self.running(notifier) {
            try await waitUntil("all sent") {
                try await desk.entries().allSatisfy { $0.status == .sent } && Self.count("QUIT", in: server) == 1
            }
        }
        #expect(server.connectionCount == 1)
        #expect(Self.count("EHLO", in: server) == 1)
        #expect(Self.count("AUTH", in: server) == 1)
        #expect(Self.count("MAIL FROM", in: server) == count)
        #expect(try await desk.entries().map(\.lastReply) == (1...count).map { "250 2.0.0 Ok: queued as Q\($0)" })
        #expect(server.unexpectedLines.isEmpty)
    }

    @Test("a delivery the store cannot record is not sent again; the recording is retried until it works")
    func unrecordedDeliveryIsNotResent() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "postdesk-notifier-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Every session would be answered as a delivery: a resend would show as a second MAIL FROM.
        let server = try FakeMailServer(
            RelayScript.smtp(RelayScript.login + RelayScript.delivery(to: [NotifierDesk.alice])))
        defer { server.stop() }
        let desk = try await NotifierDesk(
            relayPort: server.port, path: directory.appendingPathComponent("desk.sqlite").path)
        let id = try await desk.notify()
        try await desk.store.writeSQLite { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER outbox_frozen BEFORE UPDATE ON outbox
                    BEGIN SELECT RAISE(ABORT, 'outbox frozen by the test'); END
                    """)
        }
        let clock = ManualClock()
        let notifier = Self.notifier(desk, clock: clock)
        try await Self.running(notifier) {
            try await waitUntil("the delivery is remembered") { await notifier.status().unrecordedDeliveries == 1 }
            #expect(try await desk.entries().first?.status == .pending)
            // Polls, rings and recording retries come and go; the message is not sent again.
            for _ in 0..<4 {
                await notifier.ring()
                clock.advance(by: .seconds(5))
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(Self.count("MAIL FROM", in: server) == 1)
            #expect(server.connectionCount == 1)
            #expect(await notifier.status().unrecordedDeliveries == 1)
            #expect(try await desk.entries().first?.status == .pending)

            try await desk.store.writeSQLite { db in try db.execute(sql: "DROP TRIGGER outbox_frozen") }
            try await waitUntil("recorded") {
                clock.advance(by: .seconds(5))
                return try await desk.entries().first?.status == .sent
            }
        }
        let entry = try #require(try await desk.entries().first)
        #expect(entry.id == id)
        #expect(entry.attempts == 1)
        #expect(entry.lastReply == "250 2.0.0 Ok: queued as Q1")
        #expect(await notifier.status().unrecordedDeliveries == 0)
        #expect(Self.count("MAIL FROM", in: server) == 1)
        #expect(server.connectionCount == 1)
    }
}
