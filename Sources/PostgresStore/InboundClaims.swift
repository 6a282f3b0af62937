import Foundation
import ServiceDesk

/// The processing claims of one node on PostgreSQL: a row of `inboundClaim` per mail a node attempts, with the node's
/// name and when the claim runs out. A claim is taken over when it has run out (its node died or hangs) or when it is
/// this node's own (an earlier attempt of this router, or of this node before a restart: one process runs a node
/// name at a time). Time is the database's.
public struct InboundClaims: ProcessingClaims {
    public let nodeName: String
    /// How long a claim keeps other nodes away: longer than an attempt takes (the router's watchdog gives a reading
    /// 60 s), short enough that a dead node's mail is attempted again soon after.
    public let duration: Duration

    public init(nodeName: String, duration: Duration = .seconds(120)) {
        self.nodeName = nodeName
        self.duration = duration
    }

    private var seconds: Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    public func claim(inboundId: Int64, in db: any SQLSession) throws -> Bool {
        let claimed = try db.fetchOne(
            sql: """
                INSERT INTO inboundClaim (inboundId, node, claimedUntil)
                VALUES (?, ?, clock_timestamp() + make_interval(secs => ?))
                ON CONFLICT (inboundId) DO UPDATE SET node = EXCLUDED.node, claimedUntil = EXCLUDED.claimedUntil
                WHERE inboundClaim.node = EXCLUDED.node OR inboundClaim.claimedUntil <= clock_timestamp()
                RETURNING inboundId
                """,
            arguments: [inboundId, nodeName, seconds])
        return claimed != nil
    }

    public func release(inboundId: Int64, in db: any SQLSession) throws {
        try db.execute(
            sql: "DELETE FROM inboundClaim WHERE inboundId = ? AND node = ?", arguments: [inboundId, nodeName])
    }

    public func clear(inboundId: Int64, in db: any SQLSession) throws {
        try db.execute(sql: "DELETE FROM inboundClaim WHERE inboundId = ?", arguments: [inboundId])
    }
}

extension PostgresPool {
    /// Migration "v4-inbound-claim": which node attempts a stored mail (`InboundClaims`). Only on PostgreSQL: one
    /// SQLite node needs no claims, so `postdesk store copy` leaves the table empty.
    static let inboundClaimMigration = Migration(
        "v4-inbound-claim",
        [
            """
            CREATE TABLE inboundClaim (
                inboundId BIGINT PRIMARY KEY REFERENCES inbound(id) ON DELETE CASCADE,
                node TEXT NOT NULL,
                claimedUntil TIMESTAMPTZ NOT NULL
            )
            """
        ])
}
