import Foundation
import PostgresNIO
import PostgresStore
import Testing

/// Mailbox leases on a real PostgreSQL 15, with several nodes' lease boards in one process: every channel has exactly
/// one owner, fair shares, a dead node's channels move once its lease runs out, a fenced commit is refused, a graceful
/// leave hands over at once, and a restart under the same name takes new tokens.
@Suite("Mailbox leases across nodes, against a real server")
struct MailboxLeasesTests {
    /// A desk with `channels` lease rows and one pool the boards share.
    static func desk(channels: Int) async throws -> PostgresPool {
        let pool = try await PostgresDesk.make().open()
        try await pool.transaction { connection in
            try await MailboxLeases.addChannels(Array(1...Int64(channels)), on: connection, logger: PostgresDesk.logger)
        }
        return pool
    }

    /// Ticks every board until none changes any more (at most `rounds` rounds).
    static func settle(_ boards: [MailboxLeases], rounds: Int = 10) async throws {
        for _ in 0..<rounds {
            var changed = false
            for board in boards { changed = try await !board.tick().isEmpty || changed }
            if !changed { return }
        }
    }

    /// Who owns each channel, from the boards' own views; fails when two boards hold one channel.
    static func owners(_ boards: [MailboxLeases]) async -> [Int64: String] {
        var owners: [Int64: String] = [:]
        for board in boards {
            for lease in await board.leases {
                #expect(owners[lease.channelID] == nil, "channel \(lease.channelID) held twice")
                owners[lease.channelID] = lease.node
            }
        }
        return owners
    }

    @Test("three nodes share 30 channels 10 each, every channel with one owner, the first token 1")
    func fairShare() async throws {
        let pool = try await Self.desk(channels: 30)
        let boards = ["a", "b", "c"].map { MailboxLeases(pool: pool, nodeName: $0, leaseDuration: .seconds(30)) }
        for board in boards { try await board.join() }
        try await Self.settle(boards)
        let owners = await Self.owners(boards)
        #expect(owners.count == 30)
        for board in boards { #expect(await board.leases.count == 10) }
        for board in boards { #expect(await board.leases.allSatisfy { $0.fencingToken == 1 }) }
        let rows = try await MailboxLeases.leases(in: pool)
        #expect(rows.allSatisfy { $0.held && $0.owner == owners[$0.channelID] })
        let nodes = try await MailboxLeases.nodes(in: pool)
        #expect(nodes.map(\.name) == ["a", "b", "c"] && nodes.allSatisfy { $0.live && $0.channels.count == 10 })
    }

    @Test("a node that joins later gets its share: the others give back what is past theirs")
    func rebalanceOnJoin() async throws {
        let pool = try await Self.desk(channels: 12)
        let first = MailboxLeases(pool: pool, nodeName: "first", leaseDuration: .seconds(30))
        try await first.join()
        try await Self.settle([first])
        #expect(await first.leases.count == 12)
        let second = MailboxLeases(pool: pool, nodeName: "second", leaseDuration: .seconds(30))
        try await second.join()
        let changes = try await first.tick()
        #expect(changes.lost.count == 6 && changes.acquired.isEmpty)
        try await Self.settle([first, second])
        #expect(await first.leases.count == 6)
        #expect(await second.leases.count == 6)
        #expect(await Self.owners([first, second]).count == 12)
        // The moved channels have a new owner, so a new token.
        #expect(await second.leases.allSatisfy { $0.fencingToken == 2 })
    }

    @Test("a node that stops renewing loses its channels once its lease runs out; its commits are refused after")
    func deadNodeMovesAndIsFenced() async throws {
        let pool = try await Self.desk(channels: 4)
        // Leases long enough that the survivor's outlive this test's steps on a machine busy with the whole suite.
        let dying = MailboxLeases(pool: pool, nodeName: "dying", leaseDuration: .seconds(4))
        try await dying.join()
        try await Self.settle([dying])
        // Its lease is current: its commit goes through.
        try await pool.transaction { try await (dying.leases.first)?.check(on: $0, logger: PostgresDesk.logger) }

        let survivor = MailboxLeases(pool: pool, nodeName: "survivor", leaseDuration: .seconds(4))
        try await survivor.join()
        // Both share, then "dying" stops ticking (paused or killed).
        try await Self.settle([dying, survivor])
        #expect(await survivor.leases.count == 2)
        let old = try #require(await dying.leases.first)
        // Within a lease period and a round its channels move.
        let started = ContinuousClock.now
        while await survivor.leases.count < 4, ContinuousClock.now - started < .seconds(12) {
            _ = try await survivor.tick()
            try await Task.sleep(for: survivor.tickInterval)
        }
        #expect(await survivor.leases.count == 4)
        #expect(ContinuousClock.now - started < .seconds(4) + .seconds(5))
        let moved = try #require(await survivor.leases.first { $0.channelID == old.channelID })
        #expect(moved.fencingToken == old.fencingToken + 1)

        // "dying" comes back (SIGCONT): a commit under its old token is refused, and its next round reports the loss.
        await #expect(throws: LeaseLost.self) {
            try await pool.transaction { try await old.check(on: $0, logger: PostgresDesk.logger) }
        }
        let changes = try await dying.tick()
        #expect(changes.lost.contains(old.channelID))
        #expect(await Self.owners([dying, survivor]).count == 4)
    }

    @Test("an expired lease not yet taken by anyone still fences: the node that let it run out cannot write")
    func expiredLeaseFences() async throws {
        let pool = try await Self.desk(channels: 1)
        // Long enough that a round on a busy machine (the whole suite in parallel) finishes within the lease.
        let node = MailboxLeases(pool: pool, nodeName: "slow", leaseDuration: .seconds(4))
        try await node.join()
        try await Self.settle([node])
        let lease = try #require(await node.leases.first)
        try await Task.sleep(for: .milliseconds(4500))
        await #expect(throws: LeaseLost.self) {
            try await pool.transaction { try await lease.check(on: $0, logger: PostgresDesk.logger) }
        }
        // Its next round claims the channel again, under a new token.
        let changes = try await node.tick()
        #expect(changes.lost == [lease.channelID])
        #expect(changes.acquired.map(\.fencingToken) == [lease.fencingToken + 1])
    }

    @Test("a graceful leave hands every channel over at the others' next round, without waiting for expiry")
    func leaveHandsOver() async throws {
        let pool = try await Self.desk(channels: 6)
        let leaving = MailboxLeases(pool: pool, nodeName: "leaving", leaseDuration: .seconds(300))
        let staying = MailboxLeases(pool: pool, nodeName: "staying", leaseDuration: .seconds(300))
        for board in [leaving, staying] { try await board.join() }
        try await Self.settle([leaving, staying])
        #expect(await leaving.leases.count == 3)
        try await leaving.leave()
        _ = try await staying.tick()
        #expect(await staying.leases.count == 6)
        let nodes = try await MailboxLeases.nodes(in: pool)
        #expect(
            nodes.first { $0.name == "leaving" }.map { !$0.live && $0.stoppedAt != nil && $0.channels.isEmpty } == true)
    }

    @Test("a node restarted under the same name gets a new incarnation and new tokens; the old process is superseded")
    func restartUnderSameName() async throws {
        let pool = try await Self.desk(channels: 3)
        let before = MailboxLeases(pool: pool, nodeName: "node-1", leaseDuration: .seconds(300))
        try await before.join()
        try await Self.settle([before])
        let oldLeases = await before.leases
        #expect(oldLeases.count == 3)

        let after = MailboxLeases(pool: pool, nodeName: "node-1", leaseDuration: .seconds(300))
        try await after.join()
        #expect(await after.incarnation == before.incarnation + 1)
        _ = try await after.tick()
        #expect(await after.leases.map(\.fencingToken) == oldLeases.map { $0.fencingToken + 1 })
        for lease in oldLeases {
            await #expect(throws: LeaseLost.self) {
                try await pool.transaction { try await lease.check(on: $0, logger: PostgresDesk.logger) }
            }
        }
        await #expect(throws: NodeSuperseded.self) { try await before.tick() }
        #expect(await before.leases.isEmpty)
    }

    @Test("three nodes ticking at once for many rounds never hold one channel twice")
    func concurrentRounds() async throws {
        let pool = try await Self.desk(channels: 50)
        let boards = (1...3).map { MailboxLeases(pool: pool, nodeName: "n\($0)", leaseDuration: .seconds(30)) }
        for board in boards { try await board.join() }
        for _ in 0..<15 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for board in boards { group.addTask { _ = try await board.tick() } }
                try await group.waitForAll()
            }
            _ = await Self.owners(boards)
        }
        try await Self.settle(boards)
        #expect(await Self.owners(boards).count == 50)
        for board in boards { #expect((16...17).contains(await board.leases.count)) }
    }
}
