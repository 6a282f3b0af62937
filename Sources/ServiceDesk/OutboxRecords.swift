import Foundation
import GRDB

/// A notification waiting to be sent, or sent: the Message-ID and bytes are fixed when the row is
/// written, so a resend after a crash is the same message.
public struct OutboxMessage: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord,
    SQLIdentifiedRecord
{
    public static let databaseTableName = "outbox"
    public static var tableName: String { databaseTableName }
    public var id: Int64?
    public var requestId: Int64
    public var commentId: Int64?
    public var messageId: String
    public var envelopeFrom: String
    public var recipients: [String]
    public var raw: Data
    public var status: OutboxStatus
    /// Attempts that reached the relay's verdict on this message; a relay that could not be reached
    /// or refused the session does not count.
    public var attempts: Int
    public var nextAttemptAt: Date
    /// The relay's words at the last attempt, verbatim.
    public var lastReply: String?
    public var createdAt: Date
    public var sentAt: Date?
    /// Recipients the relay refused at the last attempt, with its reply for each (RCPT TO, RFC 5321 §4.1.1.3).
    public var refusedRecipients: [String: String] = [:]

    public enum Columns {
        static let status = Column(CodingKeys.status)
        static let nextAttemptAt = Column(CodingKeys.nextAttemptAt)
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// How many notifications wait and how many were given up, for `postdesk status`.
public struct OutboxCounts: Sendable, Equatable {
    public var pending: Int
    /// Pending ones whose next attempt is due now.
    public var due: Int
    public var failed: Int
}
