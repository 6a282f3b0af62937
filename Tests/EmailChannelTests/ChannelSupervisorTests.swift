import Foundation
import Logging
import ServiceDesk
import Testing

@testable import EmailChannel

/// Counts the sessions of each channel that are running at once; a session, once cancelled, takes a
/// while to end (a LOGOUT that waits for the server), and cancellation cannot shorten that.
private final class SessionLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var active: [Int64: Int] = [:]
    private var mostAtOnce = 0
    private var started = 0

    func begin(_ id: Int64) {
        lock.withLock {
            active[id, default: 0] += 1
            started += 1
            mostAtOnce = max(mostAtOnce, active[id] ?? 0)
        }
    }

    func end(_ id: Int64) { lock.withLock { active[id, default: 0] -= 1 } }
    var most: Int { lock.withLock { mostAtOnce } }
    var starts: Int { lock.withLock { started } }
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
        let deadline = ContinuousClock.now + .seconds(20)
        while ledger.starts < 5, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(ledger.starts == 5)
        #expect(ledger.most == 1)
    }
}
