import Foundation
import GRDB

extension DeskStore {
    // MARK: The schema

    /// Migration "v11-webhook": the webhooks, their deliveries, and the triggers that write a delivery in the same
    /// transaction as the change it tells of, so that a committed change always has its deliveries and a
    /// rolled-back one has none. Each trigger inserts one row per active webhook that wants the event (and the
    /// request's project, when it names one), with the payload made by `json_object()` from the rows as they are at
    /// that moment; the request's part, the same in every event, comes from the view `webhookRequest`. With no
    /// active webhook a trigger does one lookup in an empty table. Written out as one string, as every migration is,
    /// so that nothing the app changes later can change it.
    static func migrateWebhooks(_ db: Database) throws {
        try db.execute(
            sql: """
                    CREATE TABLE webhook (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        url TEXT NOT NULL,
                        events TEXT NOT NULL,
                        secret BLOB NOT NULL,
                        projectId INTEGER REFERENCES project(id) ON DELETE CASCADE,
                        active BOOLEAN NOT NULL DEFAULT 1,
                        createdAt DATETIME NOT NULL
                    );
                    CREATE TABLE webhookDelivery (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        webhookId INTEGER NOT NULL REFERENCES webhook(id) ON DELETE CASCADE,
                        event TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        status TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        nextAttemptAt DATETIME NOT NULL,
                        responseCode INTEGER,
                        lastResponse TEXT,
                        createdAt DATETIME NOT NULL,
                        sentAt DATETIME
                    );
                    CREATE INDEX webhookDelivery_due ON webhookDelivery(webhookId, status, nextAttemptAt);
                    CREATE INDEX webhookDelivery_list ON webhookDelivery(webhookId, id);
                    CREATE VIEW webhookRequest AS
                        SELECT request.id AS id, json_object(
                            'key', request.key,
                            'project', project.key,
                            'requestType', requestType.name,
                            'status', request.status,
                            'summary', request.summary,
                            'description', request.description,
                            'reporter', request.reporter,
                            'assignee', agent.email,
                            'createdAt', strftime('%Y-%m-%dT%H:%M:%fZ', request.createdAt),
                            'updatedAt', strftime('%Y-%m-%dT%H:%M:%fZ', request.updatedAt)) AS snapshot
                        FROM request JOIN project ON project.id = request.projectId
                            LEFT JOIN requestType ON requestType.id = request.requestTypeId
                            LEFT JOIN agent ON agent.id = request.assigneeId;
                    CREATE TRIGGER webhook_request_created AFTER INSERT ON request
                    WHEN EXISTS (SELECT 1 FROM webhook WHERE active = 1) BEGIN
                        INSERT INTO webhookDelivery (webhookId, event, payload, status, attempts, nextAttemptAt, createdAt)
                        SELECT webhook.id, 'request.created', json_object(
                            'event', 'request.created',
                            'occurredAt', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                            'request', json((SELECT snapshot FROM webhookRequest WHERE id = new.id))),
                            'pending', 0, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now')
                        FROM webhook
                        WHERE webhook.active = 1 AND (webhook.projectId IS NULL OR webhook.projectId = new.projectId)
                            AND EXISTS (SELECT 1 FROM json_each(webhook.events) WHERE json_each.value = 'request.created');
                    END;
                    CREATE TRIGGER webhook_comment_added AFTER INSERT ON comment
                    WHEN EXISTS (SELECT 1 FROM webhook WHERE active = 1) BEGIN
                        INSERT INTO webhookDelivery (webhookId, event, payload, status, attempts, nextAttemptAt, createdAt)
                        SELECT webhook.id, 'comment.added', json_object(
                            'event', 'comment.added',
                            'occurredAt', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                            'request', json((SELECT snapshot FROM webhookRequest WHERE id = new.requestId)),
                            'comment', json_object(
                                'id', new.id,
                                'author', new.author,
                                'public', json(CASE WHEN new.isPublic THEN 'true' ELSE 'false' END),
                                'source', new.source,
                                'body', new.body,
                                'createdAt', strftime('%Y-%m-%dT%H:%M:%fZ', new.createdAt))),
                            'pending', 0, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now')
                        FROM webhook JOIN request ON request.id = new.requestId
                        WHERE webhook.active = 1 AND (webhook.projectId IS NULL OR webhook.projectId = request.projectId)
                            AND EXISTS (SELECT 1 FROM json_each(webhook.events) WHERE json_each.value = 'comment.added');
                    END;
                    CREATE TRIGGER webhook_request_updated
                    AFTER UPDATE OF status, assigneeId, summary, description, requestTypeId ON request
                    WHEN (old.status IS NOT new.status OR old.assigneeId IS NOT new.assigneeId
                            OR old.summary IS NOT new.summary OR old.description IS NOT new.description OR old.requestTypeId IS NOT new.requestTypeId)
                        AND EXISTS (SELECT 1 FROM webhook WHERE active = 1) BEGIN
                        INSERT INTO webhookDelivery (webhookId, event, payload, status, attempts, nextAttemptAt, createdAt)
                        SELECT webhook.id, 'request.updated', json_object(
                            'event', 'request.updated',
                            'occurredAt', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                            'request', json((SELECT snapshot FROM webhookRequest WHERE id = new.id)),
                            'changes', json_remove(
                                json_object(
                                    'status', json_object('from', old.status, 'to', new.status),
                                    'assignee', json_object(
                                        'from', (SELECT email FROM agent WHERE id = old.assigneeId),
                                        'to', (SELECT email FROM agent WHERE id = new.assigneeId)),
                                    'summary', json_object('from', old.summary, 'to', new.summary),
                                    'description', json_object('from', old.description, 'to', new.description),
                                    'requestType', json_object(
                                        'from', (SELECT name FROM requestType WHERE id = old.requestTypeId),
                                        'to', (SELECT name FROM requestType WHERE id = new.requestTypeId))),
                                CASE WHEN old.status IS new.status THEN '$.status' ELSE '$.unchanged' END,
                                CASE WHEN old.assigneeId IS new.assigneeId THEN '$.assignee' ELSE '$.unchanged' END,
                                CASE WHEN old.summary IS new.summary THEN '$.summary' ELSE '$.unchanged' END,
                                CASE WHEN old.description IS new.description THEN '$.description' ELSE '$.unchanged' END,
                                CASE WHEN old.requestTypeId IS new.requestTypeId THEN '$.requestType' ELSE '$.unchanged' END)),
                            'pending', 0, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now')
                        FROM webhook
                        WHERE webhook.active = 1 AND (webhook.projectId IS NULL OR webhook.projectId = new.projectId)
                            AND EXISTS (SELECT 1 FROM json_each(webhook.events) WHERE json_each.value = 'request.updated');
                    END;
                """)
    }

    // MARK: Webhooks

    /// The prefix of every webhook secret, so that a leaked one is recognisable.
    public static let webhookSecretPrefix = "pdwh_"

    /// Adds a webhook for `events` (all three when empty), of one project or every project; the answer holds the
    /// only copy of its signing secret that is ever shown.
    public func addWebhook(url: String, events: [WebhookEvent], projectKey: String?, now: Date = Date())
        async throws -> (webhook: WebhookEntry, secret: String)
    {
        let url = url.trimmingCharacters(in: .whitespaces)
        try WebhookURLRule.check(url)
        let events = events.isEmpty ? WebhookEvent.allCases : Array(Set(events)).sorted()
        let secret = Self.webhookSecretPrefix + AgentToken.generate().token
        let sealed = try secrets.seal(secret)
        let entry = try await write { db in
            var projectId: Int64?
            if let projectKey {
                projectId = try Self.project(projectKey, in: db).id
            }
            var webhook = Webhook(
                url: url, events: events, secret: sealed, projectId: projectId, active: true, createdAt: now)
            try webhook.insert(db)
            return try Self.webhookEntries(id: webhook.id, in: db).first
        }
        guard let entry else { throw DeskError(.storage, "the new webhook cannot be read back") }
        return (entry, secret)
    }

    /// Every webhook, oldest first; never a secret.
    public func webhooks() async throws -> [WebhookEntry] {
        try await read { db in try Self.webhookEntries(id: nil, in: db) }
    }

    /// Removes a webhook with its deliveries: the pending ones are not sent.
    public func removeWebhook(id: Int64) async throws {
        try await write { db in
            guard try db.execute(sql: "DELETE FROM webhook WHERE id = ?", arguments: [id]) > 0 else {
                throw DeskError.notFound("there is no webhook \(id); postdesk webhook list shows them")
            }
        }
    }

    /// Stops (or resumes) a webhook: while inactive it gets no new deliveries and its pending ones wait.
    public func setWebhookActive(id: Int64, _ active: Bool) async throws {
        try await write { db in
            guard try db.execute(sql: "UPDATE webhook SET active = ? WHERE id = ?", arguments: [active, id]) > 0 else {
                throw DeskError.notFound("there is no webhook \(id)")
            }
        }
    }

    /// A webhook's deliveries, newest first.
    public func webhookDeliveries(webhookId: Int64, limit: Int = 50) async throws -> [WebhookDelivery] {
        try await read { db in
            guard try Webhook.fetchOne(db, id: webhookId) != nil else {
                throw DeskError.notFound("there is no webhook \(webhookId); postdesk webhook list shows them")
            }
            return try WebhookDelivery.fetchAll(
                db, sql: "SELECT * FROM webhookDelivery WHERE webhookId = ? ORDER BY id DESC LIMIT ?",
                arguments: [webhookId, max(limit, 1)])
        }
    }

    /// One delivery, or nil.
    public func webhookDelivery(id: Int64) async throws -> WebhookDelivery? {
        try await read { db in try WebhookDelivery.fetchOne(db, id: id) }
    }

    /// Sets a failed delivery pending again, due at `now`, with a fresh count of attempts (the last answer stays
    /// until the next attempt). Only failed ones: a pending one is already waiting, and a sent one was taken.
    public func retryWebhookDelivery(id: Int64, now: Date = Date()) async throws {
        try await write { db in
            let retried = try db.execute(
                sql:
                    "UPDATE webhookDelivery SET status = ?, nextAttemptAt = ?, attempts = 0 WHERE id = ? AND status = ?",
                arguments: [WebhookDeliveryStatus.pending, now, id, WebhookDeliveryStatus.failed])
            if retried > 0 { return }
            guard
                let status = try WebhookDeliveryStatus.fetchOne(
                    db, sql: "SELECT status FROM webhookDelivery WHERE id = ?", arguments: [id])
            else { throw DeskError.notFound("there is no webhook delivery \(id)") }
            throw DeskError.conflict(
                "webhook delivery \(id) is \(status.rawValue); only failed deliveries can be retried")
        }
    }

    // MARK: The dispatcher's side

    /// The active webhooks that have a delivery due at `now`, by id; one index lookup per webhook.
    public func webhooksWithDueDeliveries(now: Date) async throws -> [Int64] {
        try await read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT id FROM webhook WHERE active = 1 AND EXISTS (
                        SELECT 1 FROM webhookDelivery WHERE webhookId = webhook.id AND status = ? AND nextAttemptAt <= ?)
                    ORDER BY id
                    """, arguments: [WebhookDeliveryStatus.pending, now])
        }
    }

    /// A webhook's delivery due longest ago at `now` (the oldest first among those due together), with the URL and
    /// the opened secret; nil when none is due or the webhook is gone or inactive.
    public func nextDueWebhookDelivery(webhookId: Int64, now: Date) async throws -> WebhookJob? {
        // On PostgreSQL the delivery is claimed as a due notification is (`claimDueOutbox`), so that one node sends it.
        let claim = dialect == .postgres
        let pick: @Sendable (any SQLSession) throws -> (Webhook, WebhookDelivery)? = { db in
            guard let webhook = try Webhook.fetchOne(db, id: webhookId), webhook.active else { return nil }
            let due = """
                SELECT * FROM webhookDelivery WHERE webhookId = ? AND status = ? AND nextAttemptAt <= ?
                ORDER BY nextAttemptAt, id LIMIT 1
                """
            guard
                let delivery = try WebhookDelivery.fetchOne(
                    db, sql: claim ? due + " FOR UPDATE SKIP LOCKED" : due,
                    arguments: [webhookId, WebhookDeliveryStatus.pending, now])
            else { return nil }
            if claim, let id = delivery.id {
                try db.execute(
                    sql: "UPDATE webhookDelivery SET nextAttemptAt = ? WHERE id = ?",
                    arguments: [now.addingTimeInterval(Self.claimDuration), id])
            }
            return (webhook, delivery)
        }
        let found = claim ? try await write(pick) : try await read(pick)
        guard let (webhook, delivery) = found else { return nil }
        return WebhookJob(delivery: delivery, url: webhook.url, secret: try secrets.open(webhook.secret))
    }

    /// Records that the receiver took a delivery (a 2xx answer).
    public func markWebhookDelivered(id: Int64, responseCode: Int, response: String, at time: Date = Date())
        async throws
    {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE webhookDelivery SET status = ?, attempts = attempts + 1, responseCode = ?, lastResponse = ?,
                    sentAt = ? WHERE id = ?
                    """,
                arguments: [WebhookDeliveryStatus.sent, responseCode, Self.excerpt(response), time, id])
        }
    }

    /// Records a failed attempt (`responseCode` nil when no receiver answered): retried at `retryAt`, or given up
    /// when it is nil.
    public func markWebhookAttemptFailed(id: Int64, responseCode: Int?, response: String, retryAt: Date?)
        async throws
    {
        try await write { db in
            if let retryAt {
                try db.execute(
                    sql: """
                        UPDATE webhookDelivery SET attempts = attempts + 1, responseCode = ?, lastResponse = ?,
                        nextAttemptAt = ? WHERE id = ?
                        """,
                    arguments: [responseCode, Self.excerpt(response), retryAt, id])
            } else {
                try db.execute(
                    sql: """
                        UPDATE webhookDelivery SET attempts = attempts + 1, responseCode = ?, lastResponse = ?,
                        status = ? WHERE id = ?
                        """,
                    arguments: [responseCode, Self.excerpt(response), WebhookDeliveryStatus.failed, id])
            }
        }
    }

    /// The first 500 characters of a receiver's answer, as stored.
    static func excerpt(_ text: String) -> String { String(text.prefix(500)) }

    private static func webhookEntries(id: Int64?, in db: any SQLSession) throws -> [WebhookEntry] {
        var sql = """
            SELECT webhook.id, webhook.url, webhook.events, project.key AS projectKey, webhook.active,
                webhook.createdAt,
                (SELECT COUNT(*) FROM webhookDelivery WHERE webhookId = webhook.id AND status = 'pending') AS pending,
                (SELECT COUNT(*) FROM webhookDelivery WHERE webhookId = webhook.id AND status = 'failed') AS failed,
                (SELECT MAX(sentAt) FROM webhookDelivery WHERE webhookId = webhook.id AND status = 'sent') AS lastSentAt
            FROM webhook LEFT JOIN project ON project.id = webhook.projectId
            """
        var arguments: SQLArguments = []
        if let id {
            sql += " WHERE webhook.id = ?"
            arguments = [id]
        }
        return try SQLRow.fetchAll(db, sql: sql + " ORDER BY webhook.id", arguments: arguments).map { row in
            let events: String = try row.decode(forColumn: "events")
            return WebhookEntry(
                id: try row.decode(forColumn: "id"), url: try row.decode(forColumn: "url"),
                events: try JSONDecoder().decode([WebhookEvent].self, from: Data(events.utf8)),
                projectKey: try row.decode(forColumn: "projectKey"), active: try row.decode(forColumn: "active"),
                createdAt: try row.decode(forColumn: "createdAt"), pending: try row.decode(forColumn: "pending"),
                failed: try row.decode(forColumn: "failed"), lastSentAt: try row.decode(forColumn: "lastSentAt"))
        }
    }
}
