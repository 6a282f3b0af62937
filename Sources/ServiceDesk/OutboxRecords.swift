import Foundation
import GRDB

/// Where a notification stands: waiting to be sent (or retried), taken by the relay, or given up.
public enum OutboxStatus: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    /// Waiting for its next attempt at `nextAttemptAt`.
    case pending
    /// The relay accepted it for at least one recipient.
    case sent
    /// Given up: a permanent refusal, or the retry policy ran out; `outbox retry` sets it pending again.
    case failed
    /// Held by the per-recipient limit (a loop or a flood of comments): `outbox release` sends it,
    /// `outbox drop` gives it up.
    case held
}

/// A notification waiting to be sent, or sent: the Message-ID and bytes are fixed when the row is
/// written, so a resend after a crash is the same message.
public struct OutboxMessage: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "outbox"
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

/// One notification as `postdesk outbox` lists it: the row without its bytes, with its request's key.
public struct OutboxEntry: Codable, Sendable, Equatable, FetchableRecord {
    public var id: Int64
    public var requestKey: String
    public var messageId: String
    public var recipients: [String]
    public var status: OutboxStatus
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastReply: String?
    public var refusedRecipients: [String: String]
    public var createdAt: Date
    public var sentAt: Date?
}

/// How many notifications wait and how many were given up, for `postdesk status`.
public struct OutboxCounts: Sendable, Equatable {
    public var pending: Int
    /// Pending ones whose next attempt is due now.
    public var due: Int
    public var failed: Int
}
