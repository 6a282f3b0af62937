import Foundation
import GRDB
import Logging
import Testing

@testable import EmailChannel
@testable import ServiceDesk

/// Counts the sessions of each channel that are running at once; a session, once cancelled, takes a
/// while to end (a LOGOUT that waits for the server), and cancellation cannot shorten that.
private final class SessionLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var active: [Int64: Int] = [:]
    private var mostAtOnce = 0
    private var started = 0
    private var startsById: [Int64: Int] = [:]

    func begin(_ id: Int64) {
        lock.withLock {
            active[id, default: 0] += 1
            started += 1
            startsById[id, default: 0] += 1
            mostAtOnce = max(mostAtOnce, active[id] ?? 0)
        }
    }

    func end(_ id: Int64) { lock.withLock { active[id, default: 0] -= 1 } }
    var most: Int { lock.withLock { mostAtOnce } }
    var starts: Int { lock.withLock { started } }
    func starts(of id: Int64) -> Int { lock.withLock { startsById[id] ?? 0 } }
    /// The channels with a session running now.
    var running: Set<Int64> { lock.withLock { Set(active.filter { $0.value > 0 }.keys) } }
}

/// Counts the SQL statements that read the channel or project tables, on the store's one connection.
private final class ReadCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var statements: [String] = []

    init(_ store: DeskStore) async throws {
        try await #require(store.writer).writeWithoutTransaction { db in
            db.trace(options: .statement) { [self] event in
                let sql = "\(event)".lowercased()
                guard sql.hasPrefix("select"), sql.contains("channel") || sql.contains("project") else { return }
                lock.withLock { statements.append(sql) }
            }
        }
    }

    /// The statements counted so far, and starts counting afresh.
    func take() -> [String] {
        lock.withLock {
            defer { statements = [] }
            return statements
        }
    }
}

private struct SlowToEndMailbox: MailboxRunning {
    let id: Int64
    let ledger: SessionLedger

    func run() async {
        ledger.begin(id)
        // Runs until cancelled, as a real session does.
        while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
        // Then says goodbye to the server, which takes its time whatever the task's state.
        await withCheckedContinuation { continuation in
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { continuation.resume() }
        }
        ledger.end(id)
    }
}

@Suite("Channel supervisor")
struct ChannelSupervisorTests {
    @Test("a restarted mailbox never runs beside its old session: stop waits until the old one has ended")
    func oneSessionPerMailbox() async throws {
        let store = try DeskStore.inMemory()
        try await makeServiceDeskProject(in: store, signup: .public)
        let channel = try await store.linkChannel(
            ChannelDraft(
                projectKey: "SD", address: "help@desk.test", protocol: .imap, host: "127.0.0.1", port: 1, tls: .none,
                caFile: nil, username: "help@desk.test", password: "x", requestTypeName: "Get help"),
            watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
        let id = try #require(channel.id)
        let ledger = SessionLedger()
        let logger = Logger(label: "t")
        let router = RequestRouter(store: store, logger: logger)
        let supervisor = ChannelSupervisor(
            store: store, router: router, statusBoard: ChannelStatusBoard(), logger: logger
        ) { channel in SlowToEndMailbox(id: channel.channel.id ?? 0, ledger: ledger) }
        let running = Task { try await supervisor.run() }
        defer { running.cancel() }
        for _ in 1...4 { await supervisor.restart(channelId: id) }
        let deadline = ContinuousClock.now + .seconds(120)
        while ledger.starts < 5, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(ledger.starts == 5)
        #expect(ledger.most == 1)
    }

    static func link(_ store: DeskStore, _ name: String, protocol: MailboxProtocol = .imap) async throws -> Int64 {
        let channel = try await store.linkChannel(
            ChannelDraft(
                projectKey: "SD", address: "\(name)@desk.test", protocol: `protocol`, host: "127.0.0.1", port: 1,
                tls: .none, caFile: nil, username: "\(name)@desk.test", password: "x", requestTypeName: "Get help"),
            watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
        return try #require(channel.id)
    }

    static func until(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw SupervisorTestError(what) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    struct SupervisorTestError: Error, CustomStringConvertible {
        var description: String
        init(_ what: String) { description = "timed out waiting for \(what)" }
    }

    fileprivate static func supervisor(_ store: DeskStore, _ ledger: SessionLedger, board: ChannelStatusBoard = .init())
        -> ChannelSupervisor
    {
        var logger = Logger(label: "t")
        logger.logLevel = .warning
        return ChannelSupervisor(
            store: store, router: RequestRouter(store: store, logger: logger), statusBoard: board, logger: logger
        ) { channel in SlowToEndMailbox(id: channel.channel.id ?? 0, ledger: ledger) }
    }

    @Test("linking channel B starts B and leaves A's session alone, reading only B's row")
    func addLeavesOthersAlone() async throws {
        let store = try DeskStore.inMemory()
        try await makeServiceDeskProject(in: store, signup: .public)
        var others: [Int64] = []
        for index in 1...50 { others.append(try await Self.link(store, "a\(index)")) }
        let ledger = SessionLedger()
        let supervisor = Self.supervisor(store, ledger)
        let running = Task { try await supervisor.run() }
        defer { running.cancel() }
        try await Self.until("the 50 mailboxes") { ledger.running == Set(others) }
        let reads = try await ReadCounter(store)

        let b = try await Self.link(store, "b")
        _ = reads.take()
        await supervisor.reload(channelId: b)
        try await Self.until("B's mailbox") { ledger.running.contains(b) }
        let statements = reads.take()
        // One statement, for B's row only (before, every reload read all 51 rows and each one's project).
        #expect(statements.count == 1, "\(statements)")
        #expect(statements.allSatisfy { $0.contains("channel.id in") }, "\(statements)")
        #expect(others.allSatisfy { ledger.starts(of: $0) == 1 })
        #expect(ledger.running == Set(others + [b]))

        // The full pass (start-up) reads every channel with its project in one statement, and restarts nothing.
        await supervisor.reload()
        try await Task.sleep(for: .milliseconds(300))
        #expect(reads.take().count == 1)
        #expect(ledger.starts == 51)
    }

    @Test("disabling one channel stops only its mailbox; removing another stops only that one")
    func disableAndRemoveStopOnlyThatOne() async throws {
        let store = try DeskStore.inMemory()
        try await makeServiceDeskProject(in: store, signup: .public)
        let a = try await Self.link(store, "a")
        let b = try await Self.link(store, "b")
        let c = try await Self.link(store, "c")
        let push = try await Self.link(store, "push", protocol: .lmtp)
        let ledger = SessionLedger()
        let board = ChannelStatusBoard()
        let supervisor = Self.supervisor(store, ledger, board: board)
        let running = Task { try await supervisor.run() }
        defer { running.cancel() }
        try await Self.until("three mailboxes") { ledger.running == [a, b, c] }
        #expect(await board.all().contains { $0.address == "push@desk.test" })

        try await store.writeSQLite { db in try db.execute(sql: "UPDATE channel SET enabled = 0 WHERE id = ?", arguments: [b])
        }
        await supervisor.reload(channelId: b)
        try await Self.until("B stopped") { ledger.running == [a, c] }

        try await store.writeSQLite { db in try db.execute(sql: "DELETE FROM channel WHERE id = ?", arguments: [c]) }
        await supervisor.reload(channelId: c)
        try await Self.until("C stopped") { ledger.running == [a] }

        try await store.writeSQLite { db in
            try db.execute(sql: "UPDATE channel SET enabled = 0 WHERE id = ?", arguments: [push])
        }
        await supervisor.reload(channelId: push)
        try await Self.until("the push channel off the board") {
            await !board.all().contains { $0.address == "push@desk.test" }
        }
        #expect(ledger.starts(of: a) == 1)
        #expect(ledger.starts == 3)

        // Enabled again, B starts again; A is still its first session.
        try await store.writeSQLite { db in try db.execute(sql: "UPDATE channel SET enabled = 1 WHERE id = ?", arguments: [b])
        }
        await supervisor.reload(channelId: b)
        try await Self.until("B again") { ledger.running == [a, b] }
        #expect(ledger.starts(of: a) == 1 && ledger.starts(of: b) == 2)
    }

    @Test("a burst of 100 reloads ends with exactly the enabled channels running, each started once")
    func burstOfReloads() async throws {
        let store = try DeskStore.inMemory()
        try await makeServiceDeskProject(in: store, signup: .public)
        let ledger = SessionLedger()
        let supervisor = Self.supervisor(store, ledger)

        // Asked before it runs: the 100 asks wait as one batch, read in one statement after the start-up pass.
        var early: [Int64] = []
        for index in 1...100 { early.append(try await Self.link(store, "early\(index)")) }
        let reads = try await ReadCounter(store)
        for id in early { await supervisor.reload(channelId: id) }
        let running = Task { try await supervisor.run() }
        defer { running.cancel() }
        try await Self.until("the early 100") { ledger.running == Set(early) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(reads.take().count == 2, "the start-up pass and one for the batch of 100")

        // While it runs: 100 links with a reload each, every fifth one disabled again at once, with full reloads
        // mixed in; the supervisor ends with exactly the enabled ones, none started twice.
        var wanted = Set(early)
        for index in 1...100 {
            let id = try await Self.link(store, "late\(index)")
            if index.isMultiple(of: 5) {
                try await store.writeSQLite { db in
                    try db.execute(sql: "UPDATE channel SET enabled = 0 WHERE id = ?", arguments: [id])
                }
            } else {
                wanted.insert(id)
            }
            await supervisor.reload(channelId: id)
            if index.isMultiple(of: 25) { await supervisor.reload() }
        }
        try await Self.until("the 180 enabled mailboxes") { ledger.running == wanted }
        try await Task.sleep(for: .milliseconds(300))
        #expect(ledger.running == wanted)
        #expect(ledger.most == 1)
        #expect(wanted.allSatisfy { ledger.starts(of: $0) == 1 })
    }
}
