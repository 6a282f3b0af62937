import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceDesk

/// A node's claim on one mailbox: the channel, the node and its incarnation, and the fencing token the claim was
/// given. Every inbound commit checks it (`check(on:)`) in its own transaction.
public struct MailboxLease: Sendable, Hashable {
    public var channelID: Int64
    public var node: String
    public var incarnation: Int64
    /// Grows with every new owner of the channel, so a write under an older token is refused.
    public var fencingToken: Int64

    /// Refuses the transaction unless this lease is still the channel's current one and has not expired. The row is
    /// locked `FOR SHARE` until the transaction ends, so no other node can claim the channel before this commit.
    public func check(on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(
            """
            SELECT 1 FROM channelLease
            WHERE channelId = \(channelID) AND owner = \(node) AND ownerIncarnation = \(incarnation)
              AND fencingToken = \(fencingToken) AND expiresAt > clock_timestamp()
            FOR SHARE
            """, logger: logger
        ).collect()
        guard !rows.isEmpty else { throw LeaseLost(lease: self) }
    }
}

/// A commit refused because the node no longer holds the mailbox's lease (it expired, or another node took it).
public struct LeaseLost: Error, Sendable, CustomStringConvertible {
    public var lease: MailboxLease

    public var description: String {
        "node \(lease.node) no longer holds channel \(lease.channelID) (fencing token \(lease.fencingToken)); "
            + "the commit was refused and the mailbox is dropped"
    }
}

/// What one round of the lease board changed for this node.
public struct LeaseChanges: Sendable, Equatable {
    /// Claims this node now holds that it did not hold before (a mailbox to start, with this token).
    public var acquired: [MailboxLease] = []
    /// Channels this node held and holds no longer (expired, taken, or released for another node's share): a
    /// mailbox to stop. A channel may be both lost and acquired in one round: restart it with the new token.
    public var lost: [Int64] = []

    public var isEmpty: Bool { acquired.isEmpty && lost.isEmpty }
}

/// One node as the database knows it, for `postdesk nodes`.
public struct NodeState: Sendable, Equatable {
    public var name: String
    public var incarnation: Int64
    public var startedAt: Date
    public var heartbeatAt: Date
    public var expiresAt: Date
    /// Set once the node left gracefully.
    public var stoppedAt: Date?
    /// Whether its heartbeat is current (not stopped, not expired).
    public var live: Bool
    /// The channels it holds unexpired leases on.
    public var channels: [Int64]
}

/// One channel's lease row, for `status --json`.
public struct LeaseState: Sendable, Equatable {
    public var channelID: Int64
    public var owner: String?
    public var expiresAt: Date?
    public var fencingToken: Int64
    /// Whether `owner` still holds it (the lease has not expired).
    public var held: Bool
}

/// The lease board of one node: it joins the desk's nodes, claims at most its fair share of the channels (channels ÷
/// live nodes, rounded up) with `SELECT … FOR UPDATE SKIP LOCKED`, renews what it holds, gives back what is past its
/// share when nodes join, and releases everything when it leaves. Time is the database's, never a node's clock.
public actor MailboxLeases {
    public let nodeName: String
    public let leaseDuration: Duration
    public private(set) var incarnation: Int64 = 0
    private let database: PostgresPool
    private var held: [Int64: MailboxLease] = [:]
    /// Until when (on this node's monotonic clock) the last successful renewal keeps the leases, at the latest.
    private var validUntil: ContinuousClock.Instant?

    /// Whether each round first makes lease rows for the desk's mailboxes (enabled channels that are fetched, not
    /// pushed) and removes those of channels gone or disabled: what a serving node does; tests give rows themselves.
    private let followsDesk: Bool

    public init(
        pool database: PostgresPool, nodeName: String, leaseDuration: Duration = .seconds(30), followsDesk: Bool = false
    ) {
        self.database = database
        self.nodeName = nodeName
        self.leaseDuration = leaseDuration
        self.followsDesk = followsDesk
    }

    /// How often `run` renews and rebalances: a third of the lease, at most 2 s, so that a dead node's mailboxes move
    /// within one lease period and 2 s.
    public var tickInterval: Duration { min(leaseDuration / 3, .seconds(2)) }

    /// The leases this node holds now.
    public var leases: [MailboxLease] { held.values.sorted { $0.channelID < $1.channelID } }

    private var leaseSeconds: Double {
        let (seconds, attoseconds) = leaseDuration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Registers this node under a new incarnation. A node restarted under the same name gets a new incarnation, and
    /// the claims of its earlier ones are released at once (it is that node, so they are dead), to be claimed again
    /// with new fencing tokens.
    public func join() async throws {
        let (name, seconds) = (nodeName, leaseSeconds)
        let logger = database.logger
        incarnation = try await database.transaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO node (name, incarnation, startedAt, heartbeatAt, expiresAt)
                VALUES (\(name), 1, clock_timestamp(), clock_timestamp(), clock_timestamp() + make_interval(secs => \(seconds)))
                ON CONFLICT (name) DO UPDATE SET incarnation = node.incarnation + 1, startedAt = EXCLUDED.startedAt,
                    heartbeatAt = EXCLUDED.heartbeatAt, expiresAt = EXCLUDED.expiresAt, stoppedAt = NULL
                RETURNING incarnation
                """, logger: logger)
            guard let incarnation = try await rows.decode(Int64.self).all().first else {
                throw DeskError(.storage, "the node row of \(name) was not written")
            }
            try await connection.query(
                """
                UPDATE channelLease SET owner = NULL, ownerIncarnation = NULL, expiresAt = NULL
                WHERE owner = \(name) AND ownerIncarnation <> \(incarnation)
                """, logger: logger)
            return incarnation
        }
        held = [:]
        validUntil = nil
    }

    /// One round: heartbeat, renew, give back what is past the fair share, claim up to it. On a failure the leases are
    /// kept as long as the last renewal keeps them; past that they are reported lost.
    public func tick() async throws -> LeaseChanges {
        guard incarnation > 0 else { throw DeskError(.invalid, "the node joins before its first lease round") }
        let started = ContinuousClock.now
        let (name, incarnation, seconds, followsDesk) = (nodeName, self.incarnation, leaseSeconds, followsDesk)
        let before = held
        let logger = database.logger
        let database = self.database
        // A round that waits on a database out of reach is given up when the last renewal runs out (or after one
        // lease period when nothing is held), so that the node stops its mailboxes in time.
        let deadline = validUntil.flatMap { $0 > started ? $0 : nil } ?? started + leaseDuration
        let round: [MailboxLease]
        do {
            round = try await Self.within(deadline) {
                try await database.transaction { connection in
                    if followsDesk { try await Self.followDesk(on: connection, logger: logger) }
                    return try await Self.round(
                        on: connection, name: name, incarnation: incarnation, seconds: seconds, logger: logger)
                }
            }
        } catch let error as NodeSuperseded {
            held = [:]
            validUntil = nil
            throw error
        } catch {
            if let validUntil, ContinuousClock.now < validUntil { throw error }
            held = [:]
            validUntil = nil
            throw error
        }
        validUntil = started + leaseDuration
        held = Dictionary(uniqueKeysWithValues: round.map { ($0.channelID, $0) })
        var changes = LeaseChanges()
        changes.lost = before.values.filter { held[$0.channelID] != $0 }.map(\.channelID).sorted()
        changes.acquired = round.filter { before[$0.channelID] != $0 }
        return changes
    }

    /// `work`'s result, or `RoundTimedOut` once `deadline` passes (and `work` is cancelled). The wait does not depend on
    /// `work` honouring the cancellation: a connection attempt that hangs is left to end by itself.
    private static func within<T: Sendable>(
        _ deadline: ContinuousClock.Instant, _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let outcome = OnceResult<T>()
        let worker = Task {
            do {
                outcome.resume(.success(try await work()))
            } catch {
                outcome.resume(.failure(error))
            }
        }
        let timer = Task {
            try? await Task.sleep(until: deadline)
            outcome.resume(.failure(RoundTimedOut()))
        }
        defer {
            worker.cancel()
            timer.cancel()
        }
        return try await outcome.value.get()
    }

    /// Lease rows for exactly the desk's mailboxes: a channel linked on any node gets one, a removed or disabled one
    /// loses it (and so its mailbox stops on the node that ran it).
    private static func followDesk(on connection: PostgresConnection, logger: Logger) async throws {
        // One node at a time: the others' rounds skip this step rather than wait on (or deadlock with) it.
        let locked = try await connection.query(
            "SELECT pg_try_advisory_xact_lock(\(Self.followLock))", logger: logger
        ).decode(Bool.self).all()
        guard locked.first == true else { return }
        try await connection.query(
            """
            INSERT INTO channelLease (channelId)
            SELECT id FROM channel WHERE enabled = 1 AND protocol <> 'lmtp' ON CONFLICT DO NOTHING
            """, logger: logger)
        try await connection.query(
            """
            DELETE FROM channelLease
            WHERE channelId NOT IN (SELECT id FROM channel WHERE enabled = 1 AND protocol <> 'lmtp')
            """, logger: logger)
    }

    /// The advisory lock key of `followDesk` ("pdfollow" as a number).
    private static let followLock: Int64 = 0x7064_666f_6c6c_6f77

    /// The round's queries, in one transaction; gives the leases held after it.
    private static func round(
        on connection: PostgresConnection, name: String, incarnation: Int64, seconds: Double, logger: Logger
    ) async throws -> [MailboxLease] {
        let beat = try await connection.query(
            """
            UPDATE node SET heartbeatAt = clock_timestamp(), expiresAt = clock_timestamp() + make_interval(secs => \(seconds))
            WHERE name = \(name) AND incarnation = \(incarnation) AND stoppedAt IS NULL
            RETURNING 1
            """, logger: logger
        ).collect()
        guard !beat.isEmpty else { throw NodeSuperseded(node: name, incarnation: incarnation) }
        let renewed = try await connection.query(
            """
            UPDATE channelLease SET expiresAt = clock_timestamp() + make_interval(secs => \(seconds))
            WHERE owner = \(name) AND ownerIncarnation = \(incarnation) AND expiresAt > clock_timestamp()
            RETURNING channelId, fencingToken
            """, logger: logger)
        var leases = try await renewed.decode((Int64, Int64).self).all().map {
            MailboxLease(channelID: $0.0, node: name, incarnation: incarnation, fencingToken: $0.1)
        }.sorted { $0.channelID < $1.channelID }
        let counts = try await connection.query(
            """
            SELECT (SELECT count(*) FROM channelLease),
                   (SELECT count(*) FROM node WHERE stoppedAt IS NULL AND expiresAt > clock_timestamp())
            """, logger: logger)
        guard let (channels, nodes) = try await counts.decode((Int64, Int64).self).all().first else { return leases }
        let share = nodes > 0 ? Int((channels + nodes - 1) / nodes) : Int(channels)
        if leases.count > share {
            let surplus = leases.suffix(leases.count - share).map(\.channelID)
            try await connection.query(
                """
                UPDATE channelLease SET owner = NULL, ownerIncarnation = NULL, expiresAt = NULL
                WHERE channelId = ANY(\(surplus)) AND owner = \(name) AND ownerIncarnation = \(incarnation)
                """, logger: logger)
            leases.removeLast(leases.count - share)
        } else if leases.count < share {
            let wanted = share - leases.count
            let claimed = try await connection.query(
                """
                WITH free AS (
                    SELECT channelId FROM channelLease
                    WHERE owner IS NULL OR expiresAt IS NULL OR expiresAt <= clock_timestamp()
                    ORDER BY channelId LIMIT \(wanted)
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE channelLease AS lease
                SET owner = \(name), ownerIncarnation = \(incarnation), fencingToken = lease.fencingToken + 1,
                    expiresAt = clock_timestamp() + make_interval(secs => \(seconds)), claimedAt = clock_timestamp()
                FROM free WHERE lease.channelId = free.channelId
                RETURNING lease.channelId, lease.fencingToken
                """, logger: logger)
            leases += try await claimed.decode((Int64, Int64).self).all().map {
                MailboxLease(channelID: $0.0, node: name, incarnation: incarnation, fencingToken: $0.1)
            }
        }
        return leases.sorted { $0.channelID < $1.channelID }
    }

    /// Gives back every lease and marks the node stopped (a graceful shutdown), so others claim at once.
    public func leave() async throws {
        guard incarnation > 0 else { return }
        let (name, incarnation) = (nodeName, self.incarnation)
        let logger = database.logger
        let database = self.database
        // A database out of reach does not hold up the shutdown: the leases then run out by themselves.
        try await Self.within(.now + min(leaseDuration, .seconds(5))) {
            try await database.transaction { connection in
                try await connection.query(
                    """
                    UPDATE channelLease SET owner = NULL, ownerIncarnation = NULL, expiresAt = NULL
                    WHERE owner = \(name) AND ownerIncarnation = \(incarnation)
                    """, logger: logger)
                try await connection.query(
                    """
                    UPDATE node SET stoppedAt = clock_timestamp(), expiresAt = clock_timestamp()
                    WHERE name = \(name) AND incarnation = \(incarnation)
                    """, logger: logger)
            }
        }
        held = [:]
        validUntil = nil
    }

    // MARK: The channel set and what the desk sees

    /// Makes lease rows for channels that have none (a channel nobody owns yet).
    public static func addChannels(_ ids: [Int64], on connection: PostgresConnection, logger: Logger) async throws {
        guard !ids.isEmpty else { return }
        try await connection.query(
            "INSERT INTO channelLease (channelId) SELECT unnest(\(ids)::bigint[]) ON CONFLICT DO NOTHING",
            logger: logger)
    }

    /// Every node the desk has seen, with the channels each holds now.
    public static func nodes(in database: PostgresPool) async throws -> [NodeState] {
        let rows = try await database.client.query(
            """
            SELECT n.name, n.incarnation, n.startedAt, n.heartbeatAt, n.expiresAt, n.stoppedAt,
                   (n.stoppedAt IS NULL AND n.expiresAt > clock_timestamp()),
                   COALESCE(array_agg(l.channelId ORDER BY l.channelId) FILTER (WHERE l.channelId IS NOT NULL), '{}')
            FROM node AS n
            LEFT JOIN channelLease AS l
                ON l.owner = n.name AND l.ownerIncarnation = n.incarnation AND l.expiresAt > clock_timestamp()
            GROUP BY n.name ORDER BY n.name
            """, logger: database.logger)
        return try await rows.decode((String, Int64, Date, Date, Date, Date?, Bool, [Int64]).self).all().map {
            NodeState(
                name: $0.0, incarnation: $0.1, startedAt: $0.2, heartbeatAt: $0.3, expiresAt: $0.4, stoppedAt: $0.5,
                live: $0.6, channels: $0.7)
        }
    }

    /// Every channel's lease row, by channel.
    public static func leases(in database: PostgresPool) async throws -> [LeaseState] {
        let rows = try await database.client.query(
            """
            SELECT channelId, owner, expiresAt, fencingToken, COALESCE(expiresAt > clock_timestamp(), false)
            FROM channelLease ORDER BY channelId
            """, logger: database.logger)
        return try await rows.decode((Int64, String?, Date?, Int64, Bool).self).all().map {
            LeaseState(channelID: $0.0, owner: $0.1, expiresAt: $0.2, fencingToken: $0.3, held: $0.4 && $0.1 != nil)
        }
    }
}

/// A lease round that did not finish before the node's last renewal ran out (the database is out of reach).
public struct RoundTimedOut: Error, Sendable, CustomStringConvertible {
    public var description: String { "the database did not answer the lease round before the leases ran out" }
}

/// A result set once, by whichever of several tasks comes first; `value` waits for it.
private final class OnceResult<T: Sendable>: Sendable {
    private let state = NIOLockedValueBox<
        (result: Result<T, any Error>?, waiter: CheckedContinuation<Result<T, any Error>, Never>?)
    >(
        (nil, nil))

    func resume(_ result: Result<T, any Error>) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Result<T, any Error>, Never>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: result)
    }

    var value: Result<T, any Error> {
        get async {
            await withCheckedContinuation { continuation in
                let ready = state.withLockedValue { state -> Result<T, any Error>? in
                    if let result = state.result { return result }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}

/// This node's row now belongs to a newer incarnation: another process started under the same `--node-name`. The
/// node must stop every mailbox; its old leases were released by the newer one.
public struct NodeSuperseded: Error, Sendable, CustomStringConvertible {
    public var node: String
    public var incarnation: Int64

    public var description: String {
        "another postdesk started as node \(node) (this one is incarnation \(incarnation)); give each node its own "
            + "--node-name"
    }
}

extension PostgresPool {
    /// Migration "v1-node-lease": the nodes and the channels' leases.
    static let nodeLeaseMigration =
        Migration(
            "v1-node-lease",
            [
                """
                CREATE TABLE node (
                    name TEXT PRIMARY KEY,
                    incarnation BIGINT NOT NULL,
                    startedAt TIMESTAMPTZ NOT NULL,
                    heartbeatAt TIMESTAMPTZ NOT NULL,
                    expiresAt TIMESTAMPTZ NOT NULL,
                    stoppedAt TIMESTAMPTZ
                )
                """,
                """
                CREATE TABLE channelLease (
                    channelId BIGINT PRIMARY KEY,
                    owner TEXT,
                    ownerIncarnation BIGINT,
                    expiresAt TIMESTAMPTZ,
                    fencingToken BIGINT NOT NULL DEFAULT 0,
                    claimedAt TIMESTAMPTZ
                )
                """,
                "CREATE INDEX channelLease_owner ON channelLease (owner, ownerIncarnation)",
            ])
}
