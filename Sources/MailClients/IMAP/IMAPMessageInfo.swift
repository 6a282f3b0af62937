import Foundation

/// A message's UID, flags, INTERNALDATE and size, without its content.
public struct IMAPMessageInfo: Sendable, Hashable {
    /// The message's UID in the selected mailbox.
    public var uid: UInt32
    /// Its flags, as the server spelled them.
    public var flags: [String]
    /// INTERNALDATE, when the server sent it.
    public var internalDate: Date?
    /// RFC822.SIZE, when the server sent it.
    public var size: Int?

    /// An info with every field given.
    public init(uid: UInt32, flags: [String], internalDate: Date?, size: Int?) {
        self.uid = uid
        self.flags = flags
        self.internalDate = internalDate
        self.size = size
    }
}
