import Foundation
import GRDB

/// One line of the processing log: an inbound mail and what became of it, or something the
/// mailbox saw that did not become an inbound mail (a duplicate, a message already read).
public struct LogRecord: Sendable, Equatable {
    public var time: Date
    public var channelId: Int64
    public var from: String?
    public var subject: String?
    public var outcome: InboundOutcome
    public var requestKey: String?
    public var detail: String?
    public var notes: String?
    /// The inbound row, for `postdesk inbound show|retry|release`; nil for a mailbox event.
    public var inboundId: Int64?
    /// Processing attempts so far (inbound rows only).
    public var attempts: Int
}

extension DeskStore {
    /// Records something a mailbox saw that is not an inbound mail of its own, once per message
    /// and outcome; returns false when it was recorded before. A duplicate names the inbound mail
    /// it repeats, so the log shows that mail's request once it is processed.
    @discardableResult
    public func recordMailboxEvent(
        channelId: Int64, mailboxUid: String, from: String?, subject: String?, outcome: InboundOutcome,
        detail: String?, inboundId: Int64? = nil
    ) async throws -> Bool {
        try await writeSQLite { db in
            try Self.insertMailboxEvent(
                channelId: channelId, mailboxUid: mailboxUid, from: from, subject: subject, outcome: outcome,
                detail: detail, inboundId: inboundId, in: db)
        }
    }

    @discardableResult
    static func insertMailboxEvent(
        channelId: Int64, mailboxUid: String, from: String?, subject: String?, outcome: InboundOutcome,
        detail: String?, inboundId: Int64?, in db: Database
    ) throws -> Bool {
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO mailboxEvent
                    (channelId, mailboxUid, time, fromAddress, subject, outcome, detail, inboundId)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [channelId, mailboxUid, Date(), from, subject, outcome, detail, inboundId])
        return db.changesCount > 0
    }

    /// Mailbox UIDs this channel already stored or logged: they need no second look. With
    /// `candidates`, only those are looked up (the mailbox's per-cycle question), not the whole history.
    public func knownMailboxUIDs(channelId: Int64, among candidates: [String]? = nil) async throws -> Set<String> {
        try await readSQLite { db in
            func known(_ filter: String, _ extra: [String]) throws -> [String] {
                let arguments = [channelId] + StatementArguments(extra)
                return try String.fetchAll(
                    db, sql: "SELECT mailboxUid FROM inbound WHERE channelId = ? AND mailboxUid IS NOT NULL" + filter,
                    arguments: arguments)
                    + String.fetchAll(
                        db, sql: "SELECT mailboxUid FROM mailboxEvent WHERE channelId = ?" + filter,
                        arguments: arguments)
            }
            guard let candidates else { return Set(try known("", [])) }
            var found = Set<String>()
            // Chunks stay far below SQLite's limit on bound parameters.
            for start in stride(from: 0, to: candidates.count, by: 500) {
                let chunk = Array(candidates[start..<min(start + 500, candidates.count)])
                found.formUnion(
                    try known(" AND mailboxUid IN (" + databaseQuestionMarks(count: chunk.count) + ")", chunk))
            }
            return found
        }
    }

    /// The processing log, newest first: every inbound mail with its outcome, and the mailbox's
    /// duplicates and skipped messages.
    /// With `outcomes`, only lines with one of them; with `sender`, only lines whose sender contains it (case
    /// ignored); with `until`, only lines before it. `offset` skips that many lines (the console's pages).
    public func processingLog(
        channelAddress: String?, since: Date?, outcomes: Set<InboundOutcome>? = nil, sender: String? = nil,
        until: Date? = nil, limit: Int, offset: Int = 0
    ) async throws -> [LogRecord] {
        let sender = sender.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.flatMap {
            $0.isEmpty ? nil : $0
        }
        let wanted = outcomes.map { Array($0.map(\.rawValue)).sorted() }
        let wantedJSON = wanted.map { "[" + $0.map { "\"\($0)\"" }.joined(separator: ",") + "]" }
        return try await readSQLite { db in
            var channelId: Int64?
            if let channelAddress {
                guard
                    let id = try Int64.fetchOne(
                        db, sql: "SELECT channelId FROM channelAddress WHERE address = ?",
                        arguments: [channelAddress.lowercased()])
                else { throw DeskError.notFound("no channel with address \(channelAddress)") }
                channelId = id
            }
            let since = since ?? .distantPast
            let until = until ?? .distantFuture
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM (
                        SELECT fetchedAt AS time, channelId, fromAddress, subject, COALESCE(outcome, 'pending') AS outcome,
                               requestKey, detail, notes, id AS ordinal, 0 AS kind, id AS inboundId, attempts
                        FROM inbound WHERE (?1 IS NULL OR channelId = ?1) AND fetchedAt >= ?2 AND fetchedAt < ?6
                            AND (?5 IS NULL OR instr(lower(fromAddress), ?5) > 0)
                        UNION ALL
                        SELECT time, channelId, fromAddress, subject, outcome,
                               (SELECT requestKey FROM inbound WHERE inbound.id = mailboxEvent.inboundId), detail, NULL, id, 1,
                               NULL, 0
                        FROM mailboxEvent WHERE (?1 IS NULL OR channelId = ?1) AND time >= ?2 AND time < ?6
                            AND (?5 IS NULL OR instr(lower(fromAddress), ?5) > 0)
                    ) WHERE ?4 IS NULL OR outcome IN (SELECT value FROM json_each(?4))
                    ORDER BY time DESC, kind DESC, ordinal DESC LIMIT ?3 OFFSET ?7
                    """,
                arguments: [channelId, since, limit, wantedJSON, sender, until, max(offset, 0)])
            return rows.map { row in
                LogRecord(
                    time: row["time"], channelId: row["channelId"], from: row["fromAddress"], subject: row["subject"],
                    outcome: InboundOutcome(rawValue: row["outcome"] ?? "") ?? .pending, requestKey: row["requestKey"],
                    detail: row["detail"], notes: row["notes"], inboundId: row["inboundId"], attempts: row["attempts"])
            }
        }
    }
}
