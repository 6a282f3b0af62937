import Foundation
import GRDB

extension DeskStore {
    /// Notifications due for a (re)try, oldest first.
    public func dueOutbox(now: Date, limit: Int) async throws -> [OutboxMessage] {
        try await read { db in
            try OutboxMessage.filter(
                OutboxMessage.Columns.status == "pending" && OutboxMessage.Columns.nextAttemptAt <= now
            ).order(Column("id")).limit(limit).fetchAll(db)
        }
    }

    /// Records a delivery to the relay.
    public func markSent(outboxId: Int64, reply: String) async throws {
        try await write { db in
            try db.execute(
                sql:
                    "UPDATE outbox SET status = 'sent', sentAt = ?, attempts = attempts + 1, lastReply = ? WHERE id = ?",
                arguments: [Date(), reply, outboxId])
        }
    }

    /// Records a failed attempt: retried at `retryAt`, or given up when it is nil.
    public func markAttemptFailed(outboxId: Int64, reply: String, retryAt: Date?) async throws {
        try await write { db in
            if let retryAt {
                try db.execute(
                    sql: "UPDATE outbox SET attempts = attempts + 1, lastReply = ?, nextAttemptAt = ? WHERE id = ?",
                    arguments: [reply, retryAt, outboxId])
            } else {
                try db.execute(
                    sql: "UPDATE outbox SET attempts = attempts + 1, lastReply = ?, status = 'failed' WHERE id = ?",
                    arguments: [reply, outboxId])
            }
        }
    }

    /// The notifications of a request, oldest first.
    public func outbox(requestKey: String) async throws -> [OutboxMessage] {
        try await read { db in
            let request = try Self.request(requestKey, in: db)
            return try OutboxMessage.filter(Column("requestId") == request.id).order(Column("id")).fetchAll(db)
        }
    }
}
