import Foundation

/// The queue views of the console.
public enum QueueFilter: String, Sendable, CaseIterable {
    /// Every request not resolved, assigned or not: the default view.
    case open
    /// Waiting for support.
    case support
    /// Waiting for customer.
    case customer
    /// Open and assigned to the signed-in agent.
    case mine
    /// Open and assigned to nobody.
    case unassigned
}

/// One row of a console queue.
public struct QueueItem: Sendable, Equatable {
    public var key: String
    public var summary: String
    public var status: RequestStatus
    public var reporter: String
    /// The assigned agent's name, nil when unassigned.
    public var assignee: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        key: String, summary: String, status: RequestStatus, reporter: String, assignee: String?, createdAt: Date,
        updatedAt: Date
    ) {
        self.key = key
        self.summary = summary
        self.status = status
        self.reporter = reporter
        self.assignee = assignee
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// An attachment as the console lists it; its bytes are fetched with `attachment(id:)`.
public struct ConsoleAttachment: Sendable, Equatable {
    public var id: Int64
    /// The sender's file name: hostile text, to be escaped.
    public var filename: String
    public var contentType: String
    public var size: Int
    public var sha256: String
    /// The comment it came with; nil for the request's own mail.
    public var commentId: Int64?

    public init(id: Int64, filename: String, contentType: String, size: Int, sha256: String, commentId: Int64?) {
        self.id = id
        self.filename = filename
        self.contentType = contentType
        self.size = size
        self.sha256 = sha256
        self.commentId = commentId
    }
}

/// A comment in the console's thread, with its attachments.
public struct ConsoleComment: Sendable, Equatable {
    public var id: Int64
    public var author: String
    public var body: String
    public var isPublic: Bool
    public var source: CommentSource
    public var createdAt: Date
    public var attachments: [ConsoleAttachment]

    public init(
        id: Int64, author: String, body: String, isPublic: Bool, source: CommentSource, createdAt: Date,
        attachments: [ConsoleAttachment]
    ) {
        self.id = id
        self.author = author
        self.body = body
        self.isPublic = isPublic
        self.source = source
        self.createdAt = createdAt
        self.attachments = attachments
    }
}

/// Everything the console's request view shows.
public struct ConsoleRequest: Sendable, Equatable {
    public var request: ServiceRequest
    public var projectKey: String
    public var assignee: Agent?
    /// The attachments of the request's own mail (not of a comment).
    public var attachments: [ConsoleAttachment]
    /// Oldest first.
    public var comments: [ConsoleComment]

    public init(
        request: ServiceRequest, projectKey: String, assignee: Agent?, attachments: [ConsoleAttachment],
        comments: [ConsoleComment]
    ) {
        self.request = request
        self.projectKey = projectKey
        self.assignee = assignee
        self.attachments = attachments
        self.comments = comments
    }
}

extension DeskStore {
    /// A queue view of a project, newest first, at most `limit` rows (1–10,000). `agentId` is the signed-in
    /// agent (needed by `mine`). `search` is the console's search box: words that must all occur in the
    /// summary, the description or a comment; nil or blank is no search. See `ConsoleSearch`.
    public func consoleQueue(
        projectKey: String, filter: QueueFilter, agentId: Int64?, search: String?, limit: Int = 200
    ) async throws -> [QueueItem] {
        let terms = try ConsoleSearch.terms(search)
        if filter == .mine && agentId == nil { throw DeskError.invalid("the mine view needs a signed-in agent") }
        // What arrived since the background indexer last ran is found too (a bounded catch-up; the rest follows).
        if terms.contains(where: { $0.unicodeScalars.count >= 3 }) { try await indexSearchText(limit: 5000) }
        let limit = max(1, min(limit, 10_000))
        return try await read { db in
            let project = try Self.project(projectKey, in: db)
            var sql = """
                SELECT request.key, request.summary, request.status, request.reporter, agent.name AS assignee,
                       request.createdAt, request.updatedAt
                FROM request LEFT JOIN agent ON agent.id = request.assigneeId
                WHERE request.projectId = ?
                """
            var arguments: [SQLValue] = [project.id.sqlValue]
            switch filter {
            case .open:
                sql += " AND request.status <> ?"
                arguments.append(RequestStatus.resolved.sqlValue)
            case .support:
                sql += " AND request.status = ?"
                arguments.append(RequestStatus.waitingForSupport.sqlValue)
            case .customer:
                sql += " AND request.status = ?"
                arguments.append(RequestStatus.waitingForCustomer.sqlValue)
            case .mine:
                sql += " AND request.status <> ? AND request.assigneeId = ?"
                arguments += [RequestStatus.resolved.sqlValue, agentId.sqlValue]
            case .unassigned:
                sql += " AND request.status <> ? AND request.assigneeId IS NULL"
                arguments.append(RequestStatus.resolved.sqlValue)
            }
            for term in terms {
                let condition = ConsoleSearch.condition(for: term, in: db.dialect)
                sql += " AND " + condition.sql
                arguments += condition.arguments.values
            }
            sql += " ORDER BY request.id DESC LIMIT ?"
            arguments.append(limit.sqlValue)
            return try SQLRow.fetchAll(db, sql: sql, arguments: SQLArguments(arguments)).map { row in
                QueueItem(
                    key: try row["key"], summary: try row["summary"], status: try Self.status(try row["status"]),
                    reporter: try row["reporter"], assignee: try row["assignee"], createdAt: try row["createdAt"],
                    updatedAt: try row["updatedAt"])
            }
        }
    }

    /// One request with its project, assignee, attachments and comments (oldest first), for the request view.
    public func consoleRequest(key: String) async throws -> ConsoleRequest {
        try await read { db in
            let request = try Self.request(key, in: db)
            guard let requestId = request.id else { throw DeskError(.storage, "request without id") }
            let projectKey =
                try String.fetchOne(db, sql: "SELECT key FROM project WHERE id = ?", arguments: [request.projectId])
                ?? ""
            let assignee = try request.assigneeId.flatMap { try AgentRecord.fetchOne(db, id: $0)?.agent() }
            // One pass over the request's attachments, grouped by comment: linear in the thread's size.
            var byComment: [Int64: [ConsoleAttachment]] = [:]
            var own: [ConsoleAttachment] = []
            for attachment in try SQLRow.fetchAll(
                db,
                sql: """
                    SELECT id, filename, contentType, size, sha256, commentId FROM attachment
                    WHERE requestId = ? ORDER BY id
                    """, arguments: [requestId]
            ).map(Self.attachment) {
                if let commentId = attachment.commentId {
                    byComment[commentId, default: []].append(attachment)
                } else {
                    own.append(attachment)
                }
            }
            let comments = try Comment.fetchAll(
                db, sql: "SELECT * FROM comment WHERE requestId = ? ORDER BY id", arguments: [requestId]
            )
            .map { comment in
                guard let id = comment.id else { throw DeskError(.storage, "comment without id") }
                return ConsoleComment(
                    id: id, author: comment.author, body: comment.body, isPublic: comment.isPublic,
                    source: comment.source, createdAt: comment.createdAt, attachments: byComment[id] ?? [])
            }
            return ConsoleRequest(
                request: request, projectKey: projectKey, assignee: assignee, attachments: own, comments: comments)
        }
    }

    /// Assigns a request to an agent, or unassigns it (nil). A disabled or unknown agent is refused.
    public func assignRequest(key: String, agentId: Int64?) async throws {
        try await write { db in
            let request = try Self.request(key, in: db)
            if let agentId {
                guard let agent = try AgentRecord.fetchOne(db, id: agentId) else {
                    throw DeskError.invalid("no agent with id \(agentId)")
                }
                guard !agent.disabled else {
                    throw DeskError.invalid("agent \(agent.email) is disabled and cannot be assigned")
                }
            }
            try db.execute(
                sql: "UPDATE request SET assigneeId = ?, updatedAt = ? WHERE id = ?",
                arguments: [agentId, Date(), request.id])
        }
    }

    /// Sets a request's status, and its updatedAt. Resolving it tells the customer, in the same transaction (unless
    /// the project has no address to send from); the answer says whether a notification was queued.
    @discardableResult
    public func setRequestStatus(key: String, status: RequestStatus) async throws -> Bool {
        let secrets = self.secrets
        return try await write { db in
            let request = try Self.request(key, in: db)
            let now = Date()
            try db.execute(
                sql: "UPDATE request SET status = ?, updatedAt = ? WHERE id = ?",
                arguments: [status.rawValue, now, request.id])
            guard status == .resolved, request.status != .resolved, let requestId = request.id else { return false }
            let message: OutboxMessage
            do {
                message = try NotificationComposer.resolved(request, at: now, secrets: secrets, in: db)
            } catch let error as DeskError where error.code == .invalid {
                return false
            }
            _ = try Self.queueNotification(
                message, requestId: requestId, limit: Self.recipientHourlyLimit, now: now, in: db)
            return true
        }
    }

    /// One attachment and the file that holds its bytes (content-addressed under `attachmentDirectory`).
    public func attachment(id: Int64) async throws -> (ConsoleAttachment, url: URL) {
        let directory = attachmentDirectory
        let found = try await read { db in
            guard
                let row = try SQLRow.fetchOne(
                    db, sql: "SELECT id, filename, contentType, size, sha256, commentId FROM attachment WHERE id = ?",
                    arguments: [id])
            else { throw DeskError.notFound("no attachment \(id)") }
            let attachment = try Self.attachment(row)
            // The name becomes a path: only a SHA-256 in hex may.
            guard attachment.sha256.utf8.count == 64,
                attachment.sha256.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            else { throw DeskError(.storage, "attachment \(id) has a malformed digest") }
            return (attachment, Self.attachmentURL(sha256: attachment.sha256, in: directory))
        }
        try await cacheAttachment(sha256: found.0.sha256)
        return found
    }

    /// Indexes for search up to `limit` requests and `limit` comments committed since the last call, and says how
    /// many rows it indexed (0: the index is current). The server runs it in the background; a search catches up
    /// first, so what arrived a moment ago is found.
    @discardableResult
    public func indexSearchText(limit: Int = 500) async throws -> Int {
        try await write { db in
            // PostgreSQL keeps its trigram indexes itself, in each row's own transaction.
            guard db.dialect == .sqlite else { return 0 }
            guard
                let cursor = try SQLRow.fetchOne(db, sql: "SELECT requestId, commentId FROM searchCursor WHERE id = 1")
            else { throw DeskError(.storage, "the search cursor is missing") }
            let requestId: Int64 = try cursor.decode(forColumn: "requestId")
            let commentId: Int64 = try cursor.decode(forColumn: "commentId")
            let requests = try Int64.fetchAll(
                db, sql: "SELECT id FROM request WHERE id > ? ORDER BY id LIMIT ?", arguments: [requestId, limit])
            let comments = try Int64.fetchAll(
                db, sql: "SELECT id FROM comment WHERE id > ? ORDER BY id LIMIT ?", arguments: [commentId, limit])
            if let last = requests.last {
                try db.execute(
                    sql: """
                        INSERT INTO requestText (rowid, summary, description)
                        SELECT id, summary, description FROM request WHERE id > ? AND id <= ?
                        """, arguments: [requestId, last])
            }
            if let last = comments.last {
                try db.execute(
                    sql: """
                        INSERT INTO commentText (rowid, requestId, body)
                        SELECT id, requestId, body FROM comment WHERE id > ? AND id <= ?
                        """, arguments: [commentId, last])
            }
            try db.execute(
                sql: "UPDATE searchCursor SET requestId = ?, commentId = ? WHERE id = 1",
                arguments: [requests.last ?? requestId, comments.last ?? commentId])
            return requests.count + comments.count
        }
    }

    /// The id of the newest stored mail (0: none): the search indexer tells by it whether intake is busy.
    public func newestInboundId() async throws -> Int64 {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM inbound") ?? 0 }
    }

    /// A number that changes whenever a request of the project is added or changed or gets a comment (kept by
    /// triggers): the console polls it to show new requests without a reload.
    public func queueVersion(projectKey: String) async throws -> Int64 {
        try await read { db in
            let project = try Self.project(projectKey, in: db)
            return try Int64.fetchOne(
                db, sql: "SELECT version FROM queueVersion WHERE projectId = ?", arguments: [project.id]) ?? 0
        }
    }

    private static func attachment(_ row: SQLRow) throws -> ConsoleAttachment {
        ConsoleAttachment(
            id: try row["id"], filename: try row["filename"], contentType: try row["contentType"],
            size: try row["size"], sha256: try row["sha256"], commentId: try row["commentId"])
    }

    private static func status(_ text: String) throws -> RequestStatus {
        guard let status = RequestStatus(rawValue: text) else {
            throw DeskError(.storage, "unknown request status \(text)")
        }
        return status
    }
}

/// The console's search box, turned into SQL that treats every word as literal text. Search runs over SQLite
/// FTS5 tables with the trigram tokenizer, so a word matches wherever it occurs as a substring, Japanese too; on
/// PostgreSQL over pg_trgm's trigram indexes, which serve the same substring match as an escaped ILIKE.
/// User input never becomes FTS5 syntax: each word is one quoted phrase, its `"` doubled (FTS5 strings,
/// https://www.sqlite.org/fts5.html#fts5_strings), so `OR`, `NEAR(`, `*` or `col:` are just text. A trigram
/// index cannot find a word shorter than three characters (a two-kanji word like 印刷); such a word is matched
/// with an escaped LIKE over the project's rows instead, which is linear in their size.
enum ConsoleSearch {
    /// At most this many words in one search.
    static let maxTerms = 16
    /// At most this many characters in one word.
    static let maxTermLength = 200

    /// The words of a search, split at white space (U+3000 too); none for nil or blank.
    static func terms(_ search: String?) throws -> [String] {
        guard let search else { return [] }
        let terms = search.split(whereSeparator: { $0.isWhitespace }).map(String.init)
        guard terms.count <= maxTerms else { throw DeskError.invalid("a search has at most \(maxTerms) words") }
        guard terms.allSatisfy({ $0.count <= maxTermLength }) else {
            throw DeskError.invalid("a search word has at most \(maxTermLength) characters")
        }
        return terms
    }

    /// `term` quoted as one FTS5 phrase.
    static func phrase(_ term: String) -> String {
        "\"" + term.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `term` as a LIKE pattern matching it anywhere, with `\`, `%` and `_` escaped (ESCAPE '\').
    static func likePattern(_ term: String) -> String {
        var pattern = "%"
        for character in term {
            if character == "\\" || character == "%" || character == "_" { pattern.append("\\") }
            pattern.append(character)
        }
        return pattern + "%"
    }

    /// The condition on `request` (in the query's FROM) that a request contains `term`.
    static func condition(for term: String, in dialect: SQLDialect) -> (sql: String, arguments: SQLArguments) {
        // The trigram tokenizer counts code points.
        if dialect == .sqlite, term.unicodeScalars.count >= 3 {
            let phrase = phrase(term)
            return (
                """
                request.id IN (SELECT rowid FROM requestText WHERE requestText MATCH ?
                               UNION SELECT requestId FROM commentText WHERE commentText MATCH ?)
                """,
                [phrase, phrase]
            )
        }
        let pattern = likePattern(term)
        // SQLite's LIKE ignores case (ASCII), as FTS5's trigrams do; PostgreSQL's ILIKE says so.
        let like = dialect == .sqlite ? "LIKE" : "ILIKE"
        return (
            """
            (request.summary \(like) ? ESCAPE '\\' OR request.description \(like) ? ESCAPE '\\'
             OR EXISTS (SELECT 1 FROM comment WHERE comment.requestId = request.id AND comment.body \(like) ? ESCAPE '\\'))
            """,
            [pattern, pattern, pattern]
        )
    }
}
