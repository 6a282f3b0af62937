/// One message in a mailbox, as `doveadm fetch` reports it.
public struct HarnessMessage: Sendable, Hashable {
    /// The message's IMAP UID.
    public var uid: Int
    /// The message's flags, e.g. `\Seen`, `\Recent`, `$Forwarded`.
    public var flags: [String]
    /// The raw message text (as stored in the Maildir: lines end in LF, not CRLF).
    public var raw: String

    /// Creates a message description.
    public init(uid: Int, flags: [String], raw: String) {
        self.uid = uid
        self.flags = flags
        self.raw = raw
    }

    /// Whether the message carries `flag` (compared case-insensitively, as IMAP does).
    public func hasFlag(_ flag: String) -> Bool {
        flags.contains { $0.lowercased() == flag.lowercased() }
    }
}
