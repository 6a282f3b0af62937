import Foundation

extension DeskStore {
    /// Notifications due for a (re)try, oldest first; `afterId` continues a pass where the last batch ended.
    public func dueOutbox(now: Date, limit: Int, afterId: Int64 = 0) async throws -> [OutboxMessage] {
        try await read { db in
            try OutboxMessage.fetchAll(
                db, sql: "SELECT * FROM outbox WHERE status = ? AND nextAttemptAt <= ? AND id > ? ORDER BY id LIMIT ?",
                arguments: [OutboxStatus.pending, now, afterId, limit])
        }
    }

    /// The due notifications a notifier is to send now, as `dueOutbox` finds them. On PostgreSQL several nodes'
    /// notifiers share the outbox: the rows answered are claimed (`FOR UPDATE SKIP LOCKED`) by moving their next
    /// attempt `claimDuration` ahead, so that no other node sends them meanwhile; the attempt's result then sets it
    /// as on SQLite. A node that dies holding a claim leaves its rows due again then.
    public func claimDueOutbox(now: Date, limit: Int, afterId: Int64 = 0) async throws -> [OutboxMessage] {
        guard dialect == .postgres else { return try await dueOutbox(now: now, limit: limit, afterId: afterId) }
        return try await write { db in
            try OutboxMessage.fetchAll(
                db,
                sql: """
                    UPDATE outbox SET nextAttemptAt = ? WHERE id IN (
                        SELECT id FROM outbox WHERE status = ? AND nextAttemptAt <= ? AND id > ? ORDER BY id LIMIT ?
                        FOR UPDATE SKIP LOCKED)
                    RETURNING *
                    """,
                arguments: [now.addingTimeInterval(Self.claimDuration), OutboxStatus.pending, now, afterId, limit]
            ).sorted { ($0.id ?? 0) < ($1.id ?? 0) }
        }
    }

    /// How long a node's claim on a due notification or webhook delivery keeps other nodes from it (PostgreSQL).
    static let claimDuration: TimeInterval = 300

    /// Records that the relay took the message (for at least one recipient), with the refused ones.
    public func markSent(
        outboxId: Int64, reply: String, refusedRecipients: [String: String] = [:], at time: Date = Date()
    ) async throws {
        let refused = try Self.json(refusedRecipients)
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE outbox SET status = ?, sentAt = ?, attempts = attempts + 1, lastReply = ?,
                    refusedRecipients = ? WHERE id = ?
                    """,
                arguments: [OutboxStatus.sent, time, reply, refused, outboxId])
        }
    }

    /// Records a failed attempt that the relay answered: retried at `retryAt`, or given up when it is nil.
    public func markAttemptFailed(
        outboxId: Int64, reply: String, refusedRecipients: [String: String] = [:], retryAt: Date?
    ) async throws {
        let refused = try Self.json(refusedRecipients)
        try await write { db in
            if let retryAt {
                try db.execute(
                    sql: """
                        UPDATE outbox SET attempts = attempts + 1, lastReply = ?, refusedRecipients = ?,
                        nextAttemptAt = ? WHERE id = ?
                        """,
                    arguments: [reply, refused, retryAt, outboxId])
            } else {
                try db.execute(
                    sql: """
                        UPDATE outbox SET attempts = attempts + 1, lastReply = ?, refusedRecipients = ?, status = ?
                        WHERE id = ?
                        """,
                    arguments: [reply, refused, OutboxStatus.failed, outboxId])
            }
        }
    }

    /// The notifications of a request, oldest first.
    public func outbox(requestKey: String) async throws -> [OutboxMessage] {
        try await read { db in
            let request = try Self.request(requestKey, in: db)
            return try OutboxMessage.fetchAll(
                db, sql: "SELECT * FROM outbox WHERE requestId = ? ORDER BY id", arguments: [request.id])
        }
    }

    /// Notifications for `postdesk outbox`, newest first, optionally only those in one status.
    public func outboxEntries(status: OutboxStatus? = nil, limit: Int = 200) async throws -> [OutboxEntry] {
        try await read { db in
            var sql = """
                SELECT outbox.id, request.key AS requestKey, outbox.messageId, outbox.recipients, outbox.status,
                outbox.attempts, outbox.nextAttemptAt, outbox.lastReply, outbox.refusedRecipients, outbox.createdAt,
                outbox.sentAt FROM outbox JOIN request ON request.id = outbox.requestId
                """
            var arguments: SQLArguments = []
            if let status {
                sql += " WHERE outbox.status = ?"
                arguments = arguments + [status]
            }
            sql += " ORDER BY outbox.id DESC LIMIT ?"
            arguments = arguments + [limit]
            return try OutboxEntry.fetchAll(db, sql: sql, arguments: arguments)
        }
    }

    /// Sets a failed notification pending again, due at `now`, with a fresh count of attempts (the last reply
    /// stays until the next attempt). Only failed notifications can be retried: a pending one is already
    /// waiting, and a sent one would reach the customer twice.
    public func retryFailedNotification(id: Int64, now: Date = Date()) async throws {
        try await write { db in
            let retried = try db.execute(
                sql: "UPDATE outbox SET status = ?, nextAttemptAt = ?, attempts = 0 WHERE id = ? AND status = ?",
                arguments: [OutboxStatus.pending, now, id, OutboxStatus.failed])
            if retried > 0 { return }
            guard
                let status = try OutboxStatus.fetchOne(
                    db, sql: "SELECT status FROM outbox WHERE id = ?", arguments: [id])
            else {
                throw DeskError(.notFound, "there is no notification \(id)")
            }
            throw DeskError(
                .conflict, "notification \(id) is \(status.rawValue); only failed notifications can be retried")
        }
    }

    /// Sets every failed notification pending again, due at `now`; returns their ids, oldest first.
    public func retryAllFailedNotifications(now: Date = Date()) async throws -> [Int64] {
        try await write { db in
            let ids = try Int64.fetchAll(
                db, sql: "SELECT id FROM outbox WHERE status = ? ORDER BY id", arguments: [OutboxStatus.failed])
            try db.execute(
                sql: "UPDATE outbox SET status = ?, nextAttemptAt = ?, attempts = 0 WHERE status = ?",
                arguments: [OutboxStatus.pending, now, OutboxStatus.failed])
            return ids
        }
    }

    /// Releases held notifications (one, or all with `id` nil): pending and due at `now`, or, with `drop`,
    /// given up as failed. Returns their ids, oldest first.
    public func settleHeldNotifications(id: Int64?, drop: Bool, now: Date = Date()) async throws -> [Int64] {
        try await write { db in
            var sql = "SELECT id FROM outbox WHERE status = ?"
            var arguments: SQLArguments = [OutboxStatus.held]
            if let id {
                sql += " AND id = ?"
                arguments = arguments + [id]
            }
            let ids = try Int64.fetchAll(db, sql: sql + " ORDER BY id", arguments: arguments)
            if let id, ids.isEmpty {
                guard
                    let status = try OutboxStatus.fetchOne(
                        db, sql: "SELECT status FROM outbox WHERE id = ?", arguments: [id])
                else { throw DeskError(.notFound, "there is no notification \(id)") }
                throw DeskError(.conflict, "notification \(id) is \(status.rawValue), not held")
            }
            for held in ids {
                if drop {
                    try db.execute(
                        sql: "UPDATE outbox SET status = ?, lastReply = ? WHERE id = ?",
                        arguments: [
                            OutboxStatus.failed, "dropped by an admin after the per-recipient limit held it", held,
                        ])
                } else {
                    try db.execute(
                        sql: "UPDATE outbox SET status = ?, nextAttemptAt = ? WHERE id = ?",
                        arguments: [OutboxStatus.pending, now, held])
                }
            }
            return ids
        }
    }

    /// How many notifications are pending (and due at `now`) and how many failed.
    public func outboxCounts(now: Date = Date()) async throws -> OutboxCounts {
        try await read { db in
            let byStatus = try SQLRow.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
            var counts = OutboxCounts(pending: 0, due: 0, failed: 0)
            for row in byStatus {
                let count: Int = try row["n"]
                switch try row.decode(OutboxStatus?.self, forColumn: "status") {
                case .pending?: counts.pending = count
                case .failed?: counts.failed = count
                case .sent?, .held?, nil: break
                }
            }
            counts.due =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM outbox WHERE status = ? AND nextAttemptAt <= ?",
                    arguments: [OutboxStatus.pending, now]) ?? 0
            return counts
        }
    }

    /// When the oldest notification still waiting to be sent was queued; nil when none waits.
    public func oldestPendingNotificationAt() async throws -> Date? {
        try await read { db in
            try Date.fetchOne(
                db, sql: "SELECT MIN(createdAt) FROM outbox WHERE status = ?", arguments: [OutboxStatus.pending])
        }
    }

    private static func json(_ refused: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(refused), as: UTF8.self)
    }
}
