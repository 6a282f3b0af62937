import Foundation

/// The state behind a fake IMAP or POP3 server (`FakeMailServer.imap(_:faults:)`, `.pop3(_:faults:)`): messages
/// with UIDs, flags and INTERNALDATE, UIDVALIDITY and UIDNEXT. It outlives connections, so a test can fault one
/// session, look at what the client flagged or deleted, and check that a later session puts it right.
/// Thread-safe: the server thread and the test read and change it.
public final class FakeMailbox: @unchecked Sendable {
    /// One message as the server holds it.
    public struct Message: Sendable, Equatable {
        /// Its IMAP UID (RFC 3501 §2.3.1.1).
        public var uid: UInt32
        /// Its POP3 unique id (RFC 1939 §7 UIDL).
        public var uidl: String
        /// The message, CRLF line ends.
        public var raw: [UInt8]
        /// When the server received it (RFC 3501 §2.3.3).
        public var internalDate: Date
        /// Its flags, such as `\Seen`.
        public var flags: Set<String>

        /// Whether `\Seen` is set.
        public var isSeen: Bool { flags.contains("\\Seen") }
    }

    private let lock = NSLock()
    private var uidValidityValue: UInt32
    private var uidNextValue: UInt32 = 1
    private var stored: [Message] = []
    private var existsValue = true
    private var deliveries = 0

    /// An empty mailbox with this UIDVALIDITY.
    public init(uidValidity: UInt32 = 1) {
        self.uidValidityValue = uidValidity
    }

    /// Adds a message under the next UID; returns it.
    @discardableResult
    public func deliver(_ raw: [UInt8], internalDate: Date = Date(), flags: Set<String> = []) -> Message {
        lock.withLock {
            deliveries += 1
            let message = Message(
                uid: uidNextValue, uidl: "fake-\(deliveries)-\(uidNextValue)", raw: raw, internalDate: internalDate,
                flags: flags)
            uidNextValue += 1
            stored.append(message)
            return message
        }
    }

    /// The messages, in UID order.
    public var messages: [Message] { lock.withLock { stored } }

    /// The message with this UID, if any.
    public func message(uid: UInt32) -> Message? {
        lock.withLock { stored.first { $0.uid == uid } }
    }

    /// The current UIDVALIDITY.
    public var uidValidity: UInt32 { lock.withLock { uidValidityValue } }

    /// The UID the next message will get.
    public var uidNext: UInt32 { lock.withLock { uidNextValue } }

    /// Whether the mailbox exists; when false, SELECT is answered `NO [NONEXISTENT]` (RFC 5530).
    public var exists: Bool {
        get { lock.withLock { existsValue } }
        set { lock.withLock { existsValue = newValue } }
    }

    /// The mailbox was deleted and made anew: empty, UIDs from 1 again under a new UIDVALIDITY (RFC 3501 §2.3.1.1).
    public func recreate(uidValidity: UInt32) {
        lock.withLock {
            uidValidityValue = uidValidity
            uidNextValue = 1
            stored = []
            existsValue = true
        }
    }

    /// Adds or removes flags on the messages with these UIDs (what `UID STORE` does).
    func changeFlags(uids: Set<UInt32>, adding: Set<String>, removing: Set<String>) {
        lock.withLock {
            for index in stored.indices where uids.contains(stored[index].uid) {
                stored[index].flags.formUnion(adding)
                stored[index].flags.subtract(removing)
            }
        }
    }

    /// Removes the messages with these POP3 unique ids (what QUIT does with the DELEted ones, RFC 1939 §6).
    func remove(uidls: Set<String>) {
        lock.withLock { stored.removeAll { uidls.contains($0.uidl) } }
    }
}
