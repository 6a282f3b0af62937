import Foundation

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
        try await write { db in
            try Self.insertMailboxEvent(
                channelId: channelId, mailboxUid: mailboxUid, from: from, subject: subject, outcome: outcome,
                detail: detail, inboundId: inboundId, in: db)
        }
    }

    @discardableResult
    static func insertMailboxEvent(
        channelId: Int64, mailboxUid: String, from: String?, subject: String?, outcome: InboundOutcome,
        detail: String?, inboundId: Int64?, in db: any SQLSession
    ) throws -> Bool {
        try db.execute(
            sql: """
                INSERT INTO mailboxEvent (channelId, mailboxUid, time, fromAddress, subject, outcome, detail, inboundId)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """,
            arguments: [channelId, mailboxUid, Date(), from, subject, outcome, detail, inboundId]) > 0
    }

    /// Mailbox UIDs this channel already stored or logged: they need no second look. With
    /// `candidates`, only those are looked up (the mailbox's per-cycle question), not the whole history.
    public func knownMailboxUIDs(channelId: Int64, among candidates: [String]? = nil) async throws -> Set<String> {
        try await read { db in
            func known(_ filter: String, _ extra: [String]) throws -> [String] {
                let arguments = [channelId] + SQLArguments(extra.map(\.sqlValue))
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
                    try known(" AND mailboxUid IN (" + sqlPlaceholders(chunk.count) + ")", chunk))
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
        return try await read { db in
            var channelId: Int64?
            if let channelAddress {
                guard
                    let id = try Int64.fetchOne(
                        db, sql: "SELECT channelId FROM channelAddress WHERE address = ?",
                        arguments: [channelAddress.lowercased()])
                else { throw DeskError.notFound("no channel with address \(channelAddress)") }
                channelId = id
            }
            // Each filter given adds its condition to both halves; the arguments follow in the same order.
            var condition = ""
            var arguments: [SQLValue] = []
            if let channelId {
                condition += " AND channelId = ?"
                arguments.append(channelId.sqlValue)
            }
            if let sender {
                condition += " AND " + db.dialect.position(of: "?", in: "lower(fromAddress)") + " > 0"
                arguments.append(sender.sqlValue)
            }
            let since = since ?? .distantPast
            let until = until ?? .distantFuture
            let outcomeFilter = wanted.map { "WHERE outcome IN (\(sqlPlaceholders($0.count)))" } ?? ""
            let rows = try SQLRow.fetchAll(
                db,
                sql: """
                    SELECT * FROM (
                        SELECT fetchedAt AS time, channelId, fromAddress, subject, COALESCE(outcome, 'pending') AS outcome,
                               requestKey, detail, notes, id AS ordinal, 0 AS kind, id AS inboundId, attempts
                        FROM inbound WHERE fetchedAt >= ? AND fetchedAt < ?\(condition)
                        UNION ALL
                        SELECT time, channelId, fromAddress, subject, outcome,
                               (SELECT requestKey FROM inbound WHERE inbound.id = mailboxEvent.inboundId), detail, NULL, id, 1,
                               NULL, 0
                        FROM mailboxEvent WHERE time >= ? AND time < ?\(condition)
                    ) AS line \(outcomeFilter)
                    ORDER BY time DESC, kind DESC, ordinal DESC LIMIT ? OFFSET ?
                    """,
                arguments: SQLArguments(
                    [since.sqlValue, until.sqlValue] + arguments + [since.sqlValue, until.sqlValue] + arguments
                        + (wanted ?? []).map(\.sqlValue) + [limit.sqlValue, max(offset, 0).sqlValue]))
            return try rows.map { row in
                LogRecord(
                    time: try row["time"], channelId: try row["channelId"], from: try row["fromAddress"],
                    subject: try row["subject"],
                    outcome: InboundOutcome(rawValue: try row.decode(String?.self, forColumn: "outcome") ?? "")
                        ?? .pending,
                    requestKey: try row["requestKey"], detail: try row["detail"], notes: try row["notes"],
                    inboundId: try row["inboundId"], attempts: try row["attempts"])
            }
        }
    }
}
