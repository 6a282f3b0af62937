import Foundation
import MailMessage

/// Composes the emails that tell a customer about their request (its acknowledgement, an agent's public comment, its
/// resolution) from the project's templates of that kind in the customer's language, or the built-in ones.
enum NotificationComposer {
    /// The line above which a customer's reply is read; QuoteStripper cuts everything below it (any `##-…-##` line).
    static func replyMarker(_ language: ConsoleLocale) -> String {
        switch language {
        case .en: "##- Please type your reply above this line -##"
        case .ja: "##- この行より上に返信を入力してください -##"
        }
    }

    /// The language the customer wrote in: Japanese when the request's text has kana or kanji, else English. Reads
    /// at most the first 4,000 characters.
    static func language(of text: String) -> ConsoleLocale {
        for scalar in text.unicodeScalars.prefix(4000) {
            switch scalar.value {
            case 0x3040...0x30FF, 0x31F0...0x31FF, 0x4E00...0x9FFF, 0xFF66...0xFF9F: return .ja
            default: continue
            }
        }
        return .en
    }

    /// The language of `request`'s notifications.
    static func language(of request: ServiceRequest) -> ConsoleLocale {
        language(of: request.summary + "\n" + request.description)
    }

    /// The mail that tells the customer of an agent's public comment.
    static func notification(
        for request: ServiceRequest, comment: Comment, secrets: SecretBox, in db: any SQLSession
    ) throws -> OutboxMessage {
        try compose(.comment, request, comment: comment, date: comment.createdAt, secrets: secrets, in: db)
    }

    /// The mail that tells the customer their request was resolved, and that a reply opens it again.
    static func resolved(_ request: ServiceRequest, at date: Date, secrets: SecretBox, in db: any SQLSession) throws
        -> OutboxMessage
    {
        try compose(.resolved, request, comment: nil, date: date, secrets: secrets, in: db)
    }

    /// The acknowledgement of a new request.
    static func received(_ request: ServiceRequest, at date: Date, secrets: SecretBox, in db: any SQLSession) throws
        -> OutboxMessage
    {
        try compose(.received, request, comment: nil, date: date, secrets: secrets, in: db)
    }

    /// The project's template of `kind` in `language`, else the built-in one. A stored template was checked when it
    /// was saved; should it still not compile, the built-in one serves, so that no notification is lost to it.
    static func template(_ kind: NotificationKind, _ language: ConsoleLocale, projectId: Int64, in db: any SQLSession)
        throws -> CompiledNotificationTemplate
    {
        if let stored = try DeskStore.storedTemplate(kind, language, projectId: projectId, in: db),
            let compiled = try? stored.compiled()
        {
            return compiled
        }
        return try NotificationTemplate.builtIn(kind, language).compiled()
    }

    private static func compose(
        _ kind: NotificationKind, _ request: ServiceRequest, comment: Comment?, date: Date, secrets: SecretBox,
        in db: any SQLSession
    ) throws -> OutboxMessage {
        let language = language(of: request)
        let project = try Project.fetchOne(db, id: request.projectId)
        let customerName = try String.fetchOne(
            db, sql: "SELECT name FROM customer WHERE projectId = ? AND address = ?",
            arguments: [request.projectId, request.reporter])
        let values = NotificationValues(
            requestKey: request.key, summary: request.summary, status: request.status,
            projectKey: project?.key ?? "", projectName: project?.name ?? request.key,
            customerAddress: request.reporter, customerName: customerName, commentAuthor: comment?.author,
            commentBody: comment?.body)
        let rendered = try template(kind, language, projectId: request.projectId, in: db)
            .render(values, language: language)
        return try compose(
            request, project: project, rendered, commentId: comment?.id, date: date, secrets: secrets, in: db)
    }

    /// A notification about `request` with these parts: the project's sender, the reply token, the thread's headers.
    private static func compose(
        _ request: ServiceRequest, project: Project?, _ rendered: RenderedNotification, commentId: Int64?,
        date: Date, secrets: SecretBox, in db: any SQLSession
    ) throws -> OutboxMessage {
        guard let requestId = request.id else { throw DeskError(.storage, "request without id") }
        let channelAddress =
            try request.channelId.flatMap { try Channel.fetchOne(db, id: $0)?.address }
            ?? String.fetchOne(
                db, sql: "SELECT address FROM channel WHERE projectId = ? ORDER BY id LIMIT 1",
                arguments: [request.projectId])
        let relayFrom = try String.fetchOne(db, sql: "SELECT fromAddress FROM smtpSettings WHERE id = 1")
        guard let fromAddress = relayFrom ?? channelAddress else {
            throw DeskError.invalid("project has no channel and no SMTP relay: there is no address to send from")
        }
        let channelReplyAddress = channelAddress ?? fromAddress
        let domain = channelReplyAddress.split(separator: "@").last.map(String.init) ?? "postdesk.invalid"
        // The reply token in the Message-ID and in the Reply-To lets whoever received this notification
        // answer it, and no one else who merely knows the request key (DESIGN.md §2, threading replies).
        let token = ReplyToken.make(requestKey: request.key, secrets: secrets)
        let messageID = MailComposer.makeMessageID(domain: domain, localPart: token.messageIDLocalPart())
        let replyTo = token.replyAddress(channelAddress: channelReplyAddress)
        let thread = try String.fetchAll(
            db, sql: "SELECT messageId FROM messageIndex WHERE requestId = ? ORDER BY createdAt, rowid",
            arguments: [requestId])
        // RFC 5322 §3.6.4: References holds the parent's references plus the parent; we keep the
        // first message and the most recent ones so that the header stays short.
        let references = thread.count > 10 ? [thread[0]] + thread.suffix(9) : thread
        let participants = try String.fetchAll(
            db, sql: "SELECT address FROM participant WHERE requestId = ? ORDER BY address", arguments: [requestId])
        let projectName = project?.name ?? request.key
        let mail = OutgoingMail(
            from: MailAddress(name: projectName, address: fromAddress),
            to: [MailAddress(name: nil, address: request.reporter)],
            cc: participants.map { MailAddress(name: nil, address: $0) },
            replyTo: [MailAddress(name: projectName, address: replyTo)],
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            messageID: messageID,
            inReplyTo: thread.last,
            references: references,
            date: date,
            extraHeaders: [
                ("Auto-Submitted", "auto-generated"),
                ("X-Postdesk-Loop", channelReplyAddress),
                ("X-Auto-Response-Suppress", "All"),
            ]
        )
        return OutboxMessage(
            id: nil, requestId: requestId, commentId: commentId, messageId: messageID, envelopeFrom: fromAddress,
            recipients: [request.reporter] + participants, raw: Data(MailComposer.compose(mail)), status: .pending,
            attempts: 0, nextAttemptAt: date, lastReply: nil, createdAt: date, sentAt: nil)
    }
}
