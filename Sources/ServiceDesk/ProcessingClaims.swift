import Foundation

/// Which node attempts a stored mail, on several nodes: each node's router sweeps every pending mail, so an attempt is
/// the node's claim on the mail until the attempt ends or the claim runs out, and the others leave the mail alone
/// meanwhile. Without it each sweep of each node would count an attempt, and a mail that never failed would be
/// quarantined after `IntakePolicy.maxAttempts` sweeps. One node alone needs no claims: its one router takes a mail
/// at a time.
public protocol ProcessingClaims: Sendable {
    /// Claims mail `inboundId` for this node as part of `db`'s transaction; false when another node's claim on it is
    /// still running (the mail is left to that node, and to this one once the claim runs out).
    func claim(inboundId: Int64, in db: any SQLSession) throws -> Bool

    /// Ends this node's claim on mail `inboundId` (its attempt failed), so that any node may try it at once.
    func release(inboundId: Int64, in db: any SQLSession) throws

    /// Ends any node's claim on mail `inboundId` (an admin sent it back to be processed again), so that the node the
    /// admin asked attempts it at once.
    func clear(inboundId: Int64, in db: any SQLSession) throws
}
