import Foundation
import Logging
import MailServerHarness
import PostgresStore
import ServiceLifecycle
import Testing

/// The lease keeper as a node runs it: the mailboxes it is told to run, a second node taking its share, and a graceful
/// shutdown that stops every mailbox before the leases go back, so the other node takes them at its next round.
@Suite("Lease keeper: the mailboxes a node runs, against a real server")
struct LeaseKeeperTests {
    /// The mailboxes one node runs (channel → fencing token), as the keeper's changes leave them.
    actor Mailboxes {
        private(set) var running: [Int64: Int64] = [:]

        func apply(_ changes: LeaseChanges) {
            for id in changes.lost { running[id] = nil }
            for lease in changes.acquired { running[lease.channelID] = lease.fencingToken }
        }
    }

    static func keeper(_ pool: PostgresPool, _ name: String, _ mailboxes: Mailboxes) -> LeaseKeeper {
        LeaseKeeper(
            leases: MailboxLeases(pool: pool, nodeName: name, leaseDuration: .seconds(3)), logger: PostgresDesk.logger
        ) { changes in await mailboxes.apply(changes) }
    }

    static func eventually(_ what: String, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting for \(what)")
    }

    @Test("two nodes run 8 mailboxes 4 each; one shuts down gracefully and the other runs all 8 at once")
    func shareAndHandOver() async throws {
        let pool = try await MailboxLeasesTests.desk(channels: 8)
        let (a, b) = (Mailboxes(), Mailboxes())
        let groupA = ServiceGroup(
            services: [Self.keeper(pool, "a", a)], gracefulShutdownSignals: [], logger: PostgresDesk.logger)
        let groupB = ServiceGroup(
            services: [Self.keeper(pool, "b", b)], gracefulShutdownSignals: [], logger: PostgresDesk.logger)
        let runA = Task { try await groupA.run() }
        try await Self.eventually("a running all 8") { await a.running.count == 8 }
        let runB = Task { try await groupB.run() }
        try await Self.eventually("4 and 4") {
            let (countA, countB) = (await a.running.count, await b.running.count)
            return countA == 4 && countB == 4
        }
        let runningA = Set(await a.running.keys)
        let runningB = Set(await b.running.keys)
        #expect(runningA.isDisjoint(with: runningB))

        let stopped = ContinuousClock.now
        await groupA.triggerGracefulShutdown()
        try await runA.value
        #expect(await a.running.isEmpty)
        try await Self.eventually("b running all 8") { await b.running.count == 8 }
        // Within a round (1 s here), not after the 3 s lease.
        #expect(ContinuousClock.now - stopped < .seconds(3))
        // The moved mailboxes run under new tokens.
        let tokensB = await b.running
        #expect(runningA.allSatisfy { (tokensB[$0] ?? 0) >= 2 })
        await groupB.triggerGracefulShutdown()
        try await runB.value
        #expect(try await MailboxLeases.leases(in: pool).allSatisfy { !$0.held })
    }

    @Test("a node cut off from the database stops its mailboxes once its last renewal runs out")
    func cutOff() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let name = try server.createDatabase()
        let pool = try await PostgresPool.open(
            PostgresLocation(url: server.url(database: name)), logger: PostgresDesk.logger)
        try await pool.transaction { connection in
            try await MailboxLeases.addChannels([1, 2, 3], on: connection, logger: PostgresDesk.logger)
        }
        let mailboxes = Mailboxes()
        let group = ServiceGroup(
            services: [Self.keeper(pool, "alone", mailboxes)], gracefulShutdownSignals: [], logger: PostgresDesk.logger)
        let run = Task { try await group.run() }
        try await Self.eventually("all 3 running") { await mailboxes.running.count == 3 }

        let cut = ContinuousClock.now
        server.stop()
        try await Self.eventually("every mailbox stopped") { await mailboxes.running.isEmpty }
        // The lease is 3 s: no later than that and a round, and not while the last renewal still holds.
        let elapsed = ContinuousClock.now - cut
        #expect(elapsed < .seconds(3) + .seconds(3))
        await group.triggerGracefulShutdown()
        try await run.value
        pool.close()
    }
}
