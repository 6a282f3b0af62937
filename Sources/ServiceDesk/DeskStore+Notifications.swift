import Foundation

extension DeskStore {
    /// The project's notification settings and templates.
    public func notifications(projectKey: String) async throws -> ProjectNotifications {
        try await read { db in
            let project = try Self.project(projectKey, in: db)
            guard let projectId = project.id else { throw DeskError(.storage, "project without id") }
            var templates: [ProjectNotifications.Entry] = []
            for kind in NotificationKind.allCases {
                for language in ConsoleLocale.allCases {
                    let stored = try Self.storedTemplate(kind, language, projectId: projectId, in: db)
                    templates.append(
                        .init(
                            kind: kind, language: language, custom: stored != nil,
                            template: stored ?? NotificationTemplate.builtIn(kind, language)))
                }
            }
            return ProjectNotifications(
                projectKey: project.key, notifyReceived: try Self.notifiesReceived(projectId, in: db),
                templates: templates)
        }
    }

    /// Gives the project its own template of `kind` in `language`, after checking that every part parses and
    /// renders; a nil subject keeps the built-in subject.
    public func setNotificationTemplate(
        projectKey: String, kind: NotificationKind, language: ConsoleLocale, subject: String?, text: String,
        html: String?
    ) async throws -> NotificationPreview {
        let template = NotificationTemplate(
            subject: subject ?? NotificationTemplate.builtIn(kind, language).subject, text: text, html: html)
        let preview = try Self.preview(template.compiled(), language: language)
        try await write { db in
            let project = try Self.project(projectKey, in: db)
            try db.execute(
                sql: """
                    INSERT INTO notificationTemplate (projectId, kind, language, subject, text, html, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (projectId, kind, language) DO UPDATE SET
                        subject = excluded.subject, text = excluded.text, html = excluded.html,
                        updatedAt = excluded.updatedAt
                    """, arguments: [project.id, kind, language, subject, text, html, Date()])
        }
        return preview
    }

    /// Goes back to the built-in template of `kind` in `language`; false when the project had none of its own.
    public func resetNotificationTemplate(projectKey: String, kind: NotificationKind, language: ConsoleLocale)
        async throws -> Bool
    {
        try await write { db in
            let project = try Self.project(projectKey, in: db)
            return try db.execute(
                sql: "DELETE FROM notificationTemplate WHERE projectId = ? AND kind = ? AND language = ?",
                arguments: [project.id, kind, language]) > 0
        }
    }

    /// Turns the acknowledgement of new requests on or off.
    public func setNotifyReceived(projectKey: String, _ on: Bool) async throws {
        try await write { db in
            let project = try Self.project(projectKey, in: db)
            try db.execute(sql: "UPDATE project SET notifyReceived = ? WHERE id = ?", arguments: [on, project.id])
        }
    }

    /// The template of `kind` in `language` as the project uses it now, rendered with sample values.
    public func previewNotification(projectKey: String, kind: NotificationKind, language: ConsoleLocale)
        async throws -> NotificationPreview
    {
        try await read { db in
            let project = try Self.project(projectKey, in: db)
            guard let projectId = project.id else { throw DeskError(.storage, "project without id") }
            return Self.preview(
                try NotificationComposer.template(kind, language, projectId: projectId, in: db), language: language)
        }
    }

    private static func preview(_ template: CompiledNotificationTemplate, language: ConsoleLocale)
        -> NotificationPreview
    {
        let rendered = template.render(.sample, language: language)
        return NotificationPreview(subject: rendered.subject, text: rendered.text, html: rendered.html)
    }

    static func storedTemplate(
        _ kind: NotificationKind, _ language: ConsoleLocale, projectId: Int64, in db: any SQLSession
    ) throws -> NotificationTemplate? {
        guard
            let row = try SQLRow.fetchOne(
                db,
                sql: """
                    SELECT subject, text, html FROM notificationTemplate
                    WHERE projectId = ? AND kind = ? AND language = ?
                    """, arguments: [projectId, kind, language])
        else { return nil }
        return NotificationTemplate(
            subject: try row.decode(String?.self, forColumn: "subject")
                ?? NotificationTemplate.builtIn(kind, language).subject,
            text: try row["text"], html: try row["html"])
    }

    static func notifiesReceived(_ projectId: Int64, in db: any SQLSession) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT notifyReceived FROM project WHERE id = ?", arguments: [projectId]) ?? false
    }

    /// Acknowledges a new request when its project asks for it. Never more than the hourly limit to one address: an
    /// acknowledgement past it is not sent at all (RFC 3834 §2: an automatic answer to the same sender at most
    /// once in a while), since one released hours later would only confuse. Mail from automatic senders never gets
    /// here: it creates no request.
    static func acknowledge(
        requestKey: String, projectId: Int64, now: Date, secrets: SecretBox, in db: any SQLSession
    ) throws {
        guard try notifiesReceived(projectId, in: db) else { return }
        let request = try self.request(requestKey, in: db)
        guard let requestId = request.id else { throw DeskError(.storage, "request without id") }
        let message: OutboxMessage
        do {
            message = try NotificationComposer.received(request, at: now, secrets: secrets, in: db)
        } catch let error as DeskError where error.code == .invalid {
            return  // No address to send from: the comment notifications say so when an agent answers.
        }
        if try recipientOverLimit(
            message.recipients, limit: recipientHourlyLimit, since: now.addingTimeInterval(-3600), in: db) != nil
        {
            return
        }
        _ = try queueNotification(message, requestId: requestId, limit: recipientHourlyLimit, now: now, in: db)
    }
}
