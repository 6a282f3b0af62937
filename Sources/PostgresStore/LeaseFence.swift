import Foundation
import NIOConcurrencyHelpers
import ServiceDesk

/// The fence of a node on PostgreSQL: the leases this node holds, as its `LeaseKeeper` last told it, and the check
/// that a commit of fetched mail is still under the current one, in the commit's own transaction.
public final class LeaseFence: IntakeFence {
    private let held = NIOLockedValueBox<[Int64: MailboxLease]>([:])
    private let refused: @Sendable (FencedOut) -> Void

    /// A fence that calls `onRefused` for each commit it refuses (to count it, and to stop the mailbox).
    public init(onRefused: @escaping @Sendable (FencedOut) -> Void) {
        self.refused = onRefused
    }

    /// Takes in what a lease round changed.
    public func apply(_ changes: LeaseChanges) {
        held.withLockedValue { held in
            for id in changes.lost { held[id] = nil }
            for lease in changes.acquired { held[lease.channelID] = lease }
        }
    }

    /// The lease this node holds on `channelId`, if any.
    public func lease(channelId: Int64) -> MailboxLease? { held.withLockedValue { $0[channelId] } }

    public func check(channelId: Int64, in db: any SQLSession) throws {
        guard let lease = lease(channelId: channelId) else {
            throw refuse(FencedOut(channelId: channelId, reason: "it holds no lease on it"))
        }
        // FOR SHARE: no other node can claim the channel until this transaction ends; an expired lease refuses even
        // when nobody took it yet, since another node may be about to.
        let current = try db.fetchOne(
            sql: """
                SELECT 1 FROM channelLease
                WHERE channelId = ? AND owner = ? AND ownerIncarnation = ? AND fencingToken = ?
                  AND expiresAt > clock_timestamp()
                FOR SHARE
                """,
            arguments: [channelId, lease.node, lease.incarnation, lease.fencingToken])
        guard current != nil else {
            throw refuse(
                FencedOut(channelId: channelId, reason: "its lease with fencing token \(lease.fencingToken) has ended"))
        }
    }

    private func refuse(_ error: FencedOut) -> FencedOut {
        refused(error)
        return error
    }
}
