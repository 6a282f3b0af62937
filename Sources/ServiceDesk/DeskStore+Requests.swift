import Foundation

/// A request with its comments, as shown to an agent.
public struct RequestDetail: Sendable, Equatable {
    public var request: ServiceRequest
    public var comments: [Comment]
}

extension DeskStore {
    /// The project's queue, newest first.
    public func queue(projectKey: String) async throws -> [ServiceRequest] {
        try await read { db in
            let project = try Self.project(projectKey, in: db)
            return try ServiceRequest.fetchAll(
                db, sql: "SELECT * FROM request WHERE projectId = ? ORDER BY id DESC", arguments: [project.id])
        }
    }

    /// One request with its comments, oldest first.
    public func request(key: String) async throws -> RequestDetail {
        try await read { db in
            let request = try Self.request(key, in: db)
            let comments = try Comment.fetchAll(
                db, sql: "SELECT * FROM comment WHERE requestId = ? ORDER BY id", arguments: [request.id])
            return RequestDetail(request: request, comments: comments)
        }
    }

    static func request(_ key: String, in db: any SQLSession) throws -> ServiceRequest {
        guard
            let request = try ServiceRequest.fetchOne(
                db, sql: "SELECT * FROM request WHERE key = ?", arguments: [key.uppercased()])
        else {
            throw DeskError.notFound("unknown request \(key.uppercased())")
        }
        return request
    }

    /// Adds an agent's comment. A public comment is mailed to the reporter: the notification is
    /// composed and written to the outbox in the same transaction, with its Message-ID fixed.
    /// More notifications than `recipientHourlyLimit` to one recipient within an hour are held, not sent
    /// (a loop through an automated commenter, or a flood): `postdesk outbox release|drop`.
    public func addAgentComment(
        requestKey: String, author: String, body: String, isPublic: Bool,
        recipientHourlyLimit: Int = DeskStore.recipientHourlyLimit
    ) async throws -> (comment: Comment, notification: OutboxMessage?) {
        let body = body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { throw DeskError.invalid("comment body must not be empty") }
        guard let author = AddressNormalizer.normalize(author) else {
            throw DeskError.invalid("author \"\(author)\" is not an email address")
        }
        let secrets = self.secrets
        return try await write { db in
            var request = try Self.request(requestKey, in: db)
            return try Self.insertAgentComment(
                on: &request, author: author, body: body, isPublic: isPublic, inboundId: nil, now: Date(),
                recipientHourlyLimit: recipientHourlyLimit, secrets: secrets, in: db)
        }
    }

    /// Notifications to one recipient within an hour before the rest are held.
    public static let recipientHourlyLimit = 20

    /// An agent's comment, from the console, the admin API or the agent's own mail: stored, and when public its
    /// notification to the customer composed into the outbox in the same transaction (held past the hourly limit),
    /// and the request waits for the customer.
    static func insertAgentComment(
        on request: inout ServiceRequest, author: String, body: String, isPublic: Bool, inboundId: Int64?, now: Date,
        recipientHourlyLimit: Int, secrets: SecretBox, in db: any SQLSession
    ) throws -> (comment: Comment, notification: OutboxMessage?) {
        guard let requestId = request.id else { throw DeskError(.storage, "request without id") }
        var comment = Comment(
            id: nil, requestId: requestId, author: author, body: body, isPublic: isPublic, source: .agent,
            inboundId: inboundId, createdAt: now)
        try comment.insert(db)
        guard isPublic else { return (comment, nil) }
        let outbox = try queueNotification(
            try NotificationComposer.notification(for: request, comment: comment, secrets: secrets, in: db),
            requestId: requestId, limit: recipientHourlyLimit, now: now, in: db)
        request.status = .waitingForCustomer
        request.updatedAt = now
        try request.update(db)
        return (comment, outbox)
    }

    /// Writes a notification to the outbox (the answer is the stored row), held when its recipient already got `limit` within the hour, and indexes
    /// its Message-ID so that replies to it thread.
    static func queueNotification(
        _ message: OutboxMessage, requestId: Int64, limit recipientHourlyLimit: Int, now: Date,
        in db: any SQLSession
    ) throws -> OutboxMessage {
        var outbox = message
        if let flooded = try Self.recipientOverLimit(
            outbox.recipients, limit: recipientHourlyLimit, since: now.addingTimeInterval(-3600), in: db)
        {
            outbox.status = .held
            outbox.lastReply =
                "held: \(flooded) was sent \(recipientHourlyLimit) notifications within the hour; "
                + "postdesk outbox release sends it, postdesk outbox drop gives it up"
        }
        try outbox.insert(db)
        try Self.index(messageID: outbox.messageId, requestId: requestId, in: db)
        return outbox
    }

    /// The first recipient who already got `limit` notifications (sent, waiting or held) since `since`.
    static func recipientOverLimit(_ recipients: [String], limit: Int, since: Date, in db: any SQLSession) throws
        -> String?
    {
        guard limit > 0 else { return nil }
        for recipient in recipients {
            // `recipients` is a JSON array of addresses.
            let sql =
                switch db.dialect {
                case .sqlite:
                    """
                    SELECT COUNT(*) FROM outbox, json_each(outbox.recipients)
                    WHERE outbox.createdAt > ? AND json_each.value = ? AND outbox.status <> ?
                    """
                case .postgres:
                    """
                    SELECT COUNT(*) FROM outbox
                    WHERE outbox.createdAt > ? AND jsonb_exists(outbox.recipients::jsonb, ?) AND outbox.status <> ?
                    """
                }
            let count = try Int.fetchOne(db, sql: sql, arguments: [since, recipient, OutboxStatus.failed]) ?? 0
            if count >= limit { return recipient }
        }
        return nil
    }

    static func index(
        messageID: String, requestId: Int64, at time: Date = Date(), in db: any SQLSession
    ) throws {
        try db.execute(
            sql: "INSERT INTO messageIndex (messageId, requestId, createdAt) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            arguments: [messageID, requestId, time])
    }
}
