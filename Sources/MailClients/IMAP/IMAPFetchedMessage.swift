import Foundation

/// A whole message fetched with `BODY.PEEK[]`, which never sets \Seen (RFC 3501 §6.4.5).
public struct IMAPFetchedMessage: Sendable, Hashable {
    /// The message's UID in the selected mailbox.
    public var uid: UInt32
    /// Its flags at fetch time, e.g. `\Seen`, `\Deleted`, as the server spelled them.
    public var flags: [String]
    /// INTERNALDATE: when the server received it; `nil` if the server did not send it.
    public var internalDate: Date?
    /// RFC822.SIZE as reported by the server; `raw.count` when not reported.
    public var size: Int
    /// The raw RFC 5322 message.
    public var raw: [UInt8]

    /// A message with every field given.
    public init(uid: UInt32, flags: [String], internalDate: Date?, size: Int, raw: [UInt8]) {
        self.uid = uid
        self.flags = flags
        self.internalDate = internalDate
        self.size = size
        self.raw = raw
    }
}
