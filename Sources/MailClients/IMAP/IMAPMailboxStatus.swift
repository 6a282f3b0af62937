/// What SELECT (or EXAMINE) reported about a mailbox (RFC 3501 §6.3.1).
public struct IMAPMailboxStatus: Sendable, Hashable {
    /// The mailbox name as given to `select`.
    public var name: String
    /// UIDVALIDITY: when it changes, every UID remembered for this mailbox is void.
    public var uidValidity: UInt32
    /// UIDNEXT: the UID the next message will at least get; `nil` if the server did not say.
    public var uidNext: UInt32?
    /// Number of messages in the mailbox.
    public var exists: Int
    /// Number of messages with \Recent (0 when not reported; IMAP4rev2 dropped it).
    public var recent: Int
    /// The flags defined in the mailbox.
    public var flags: [String]
    /// True when the mailbox was opened read-only (EXAMINE, or `[READ-ONLY]`).
    public var isReadOnly: Bool

    /// A status with every field given.
    public init(
        name: String,
        uidValidity: UInt32,
        uidNext: UInt32?,
        exists: Int,
        recent: Int = 0,
        flags: [String] = [],
        isReadOnly: Bool = false
    ) {
        self.name = name
        self.uidValidity = uidValidity
        self.uidNext = uidNext
        self.exists = exists
        self.recent = recent
        self.flags = flags
        self.isReadOnly = isReadOnly
    }
}
