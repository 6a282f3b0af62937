import Logging
import ServiceLifecycle

/// Keeps one node's mailbox leases for as long as the node runs: joins, runs a lease round every `tickInterval`, tells
/// `onChange` which mailboxes to start and stop, and on shutdown stops them all before it gives the leases back, so
/// another node takes over at its next round rather than after the lease runs out.
public final class LeaseKeeper: Service {
    /// What the keeper asks of the node: start these, stop those. It returns once the stopped ones are stopped.
    public typealias ChangeHandler = @Sendable (LeaseChanges) async -> Void

    private let leases: MailboxLeases
    private let logger: Logger
    private let onChange: ChangeHandler

    public init(leases: MailboxLeases, logger: Logger, onChange: @escaping ChangeHandler) {
        self.leases = leases
        self.logger = logger
        self.onChange = onChange
    }

    /// Runs lease rounds until the task is cancelled or the node is superseded; gives the channels last reported.
    private func rounds() async -> Set<Int64> {
        let interval = await leases.tickInterval
        var reported: Set<Int64> = []
        while !Task.isCancelled {
            do {
                let changes = try await leases.tick()
                if !changes.isEmpty {
                    reported.subtract(changes.lost)
                    reported.formUnion(changes.acquired.map(\.channelID))
                    await onChange(changes)
                }
            } catch let error as NodeSuperseded {
                logger.error("node superseded", metadata: ["error": "\(error)"])
                await onChange(LeaseChanges(lost: reported.sorted()))
                return []
            } catch {
                // The database is out of reach: the leases last until the last renewal runs out, and then the board
                // gives them up; their mailboxes stop too, as another node may own them by then.
                let held = Set(await leases.leases.map(\.channelID))
                let lost = reported.subtracting(held)
                logger.warning(
                    "lease round failed",
                    metadata: [
                        "error": "\(PostgresPool.describe(error))", "node": "\(leases.nodeName)",
                        "channels.lost": "\(lost.count)",
                    ])
                if !lost.isEmpty {
                    reported = held
                    await onChange(LeaseChanges(lost: lost.sorted()))
                }
            }
            try? await Task.sleep(for: interval)
        }
        return reported
    }

    public func run() async throws {
        let node = leases.nodeName
        try await leases.join()
        let incarnation = await leases.incarnation
        logger.info("node joined", metadata: ["node": "\(node)", "node.incarnation": "\(incarnation)"])
        // The channels `onChange` was last told this node runs; empty once superseded.
        let reported = await cancelWhenGracefulShutdown { await self.rounds() }
        // Stop the mailboxes first, then give the leases back, outside the cancelled task so that the queries run.
        if !reported.isEmpty { await onChange(LeaseChanges(lost: reported.sorted())) }
        let leases = self.leases
        let logger = self.logger
        await Task {
            do {
                try await leases.leave()
                logger.info("node left; its leases are released", metadata: ["node": "\(node)"])
            } catch {
                logger.warning(
                    "node left without releasing its leases; they run out by themselves",
                    metadata: ["node": "\(node)", "error": "\(PostgresPool.describe(error))"])
            }
        }.value
    }
}
