import Foundation

/// What lets a node store the mail it fetched from a mailbox: on several nodes, only the holder of the mailbox's lease
/// may (PostgresStore's fence checks the lease's fencing token in the storing transaction itself). One node alone
/// needs no fence.
public protocol IntakeFence: Sendable {
    /// Throws `FencedOut` unless this node may store mail fetched from channel `channelId`, as part of `db`'s
    /// transaction (a lock taken here holds until it commits).
    func check(channelId: Int64, in db: any SQLSession) throws
}

/// A commit refused because this node no longer holds the mailbox's lease (it ran out while the node was paused or
/// cut off, or another node took it): nothing was stored, and the node stops that mailbox.
public struct FencedOut: Error, Sendable, CustomStringConvertible {
    public var channelId: Int64
    public var reason: String

    public init(channelId: Int64, reason: String) {
        self.channelId = channelId
        self.reason = reason
    }

    public var description: String {
        "this node no longer holds the lease of channel \(channelId) (\(reason)); nothing was stored, and the mailbox "
            + "is left to its new owner"
    }
}
