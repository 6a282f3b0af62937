import Foundation
import GRDB
import Mustache

extension NotificationTemplate {
    /// The longest template postdesk takes, per part.
    public static let maximumLength = 64 * 1024

    /// The built-in template of `kind` in `language`, used while a project has none of its own.
    public static func builtIn(_ kind: NotificationKind, _ language: ConsoleLocale) -> NotificationTemplate {
        let subject = "[{{request.key}}] {{request.summary}}"
        let footer: String =
            switch language {
            case .en: "Reply to this email to add a comment to your request."
            case .ja: "このメールに返信すると、リクエストにコメントが追加されます。"
            }
        let (text, html): (String, String) =
            switch (kind, language) {
            case (.received, .en):
                (
                    "We have received your request {{request.key}}. An agent will answer you by email.",
                    "<p>We have received your request <b>{{request.key}}</b>. An agent will answer you by email.</p>"
                )
            case (.received, .ja):
                (
                    "リクエスト {{request.key}} を受け付けました。担当者からメールでご連絡します。",
                    "<p>リクエスト <b>{{request.key}}</b> を受け付けました。担当者からメールでご連絡します。</p>"
                )
            case (.comment, .en):
                (
                    "{{comment.author}} commented on {{request.key}}:\n\n{{comment.body}}",
                    "<p>{{comment.author}} commented on <b>{{request.key}}</b>:</p>\n"
                        + "<div style=\"white-space: pre-wrap\">{{comment.body}}</div>"
                )
            case (.comment, .ja):
                (
                    "{{comment.author}} さんが {{request.key}} にコメントしました:\n\n{{comment.body}}",
                    "<p>{{comment.author}} さんが <b>{{request.key}}</b> にコメントしました:</p>\n"
                        + "<div style=\"white-space: pre-wrap\">{{comment.body}}</div>"
                )
            case (.resolved, .en):
                (
                    "Your request {{request.key}} has been resolved.\n\nIf it is not, reply to this email: the request opens again.",
                    "<p>Your request <b>{{request.key}}</b> has been resolved.</p>\n"
                        + "<p>If it is not, reply to this email: the request opens again.</p>"
                )
            case (.resolved, .ja):
                (
                    "リクエスト {{request.key}} は解決済みになりました。\n\n解決していない場合は、このメールに返信してください。リクエストが再び開かれます。",
                    "<p>リクエスト <b>{{request.key}}</b> は解決済みになりました。</p>\n"
                        + "<p>解決していない場合は、このメールに返信してください。リクエストが再び開かれます。</p>"
                )
            }
        let footerText = kind == .resolved ? "" : "\n" + footer
        return NotificationTemplate(
            subject: subject,
            text: text + "\n\n---\n{{request.key}}: {{request.summary}}" + footerText,
            html: html + "\n<hr>\n<p style=\"color: #666\">{{request.key}}: {{request.summary}}"
                + (kind == .resolved ? "" : "<br>\n" + footer) + "</p>")
    }

    /// The templates parsed, or the admin's mistake in one line: a part that does not parse, is empty or too long.
    func compiled() throws -> CompiledNotificationTemplate {
        func parse(_ source: String, _ part: String, escaped: Bool) throws -> MustacheTemplate {
            guard source.utf8.count <= Self.maximumLength else {
                throw DeskError.invalid("the \(part) template is over \(Self.maximumLength / 1024) KiB")
            }
            do {
                // Mustache escapes for HTML unless told otherwise; the subject and the text are plain text.
                return try MustacheTemplate(string: (escaped ? "" : "{{% CONTENT_TYPE: TEXT}}") + source)
            } catch {
                throw DeskError.invalid("the \(part) template does not parse: \(error)")
            }
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw DeskError.invalid("the text template is empty: every notification needs its text part")
        }
        return CompiledNotificationTemplate(
            subject: try parse(subject, "subject", escaped: false), text: try parse(text, "text", escaped: false),
            html: try html.map { try parse($0, "HTML", escaped: true) },
            document: try parse(Self.document, "HTML document", escaped: true))
    }

    /// The HTML part around a template's HTML: the reply marker escaped, then the rendered HTML as it is; without an
    /// HTML template, the text escaped in a block that keeps its lines.
    static let document = """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"></head><body>
        <p style="color: #888">{{marker}}</p>
        {{#html}}{{{html}}}{{/html}}{{^html}}<div style="white-space: pre-wrap">{{text}}</div>{{/html}}
        </body></html>
        """
}

/// A notification's templates parsed, ready to render.
struct CompiledNotificationTemplate {
    var subject: MustacheTemplate
    var text: MustacheTemplate
    var html: MustacheTemplate?
    var document: MustacheTemplate
}

/// What a notification template can name: `{{request.key}}`, `{{request.summary}}`, `{{request.status}}`,
/// `{{project.key}}`, `{{project.name}}`, `{{customer.address}}`, `{{customer.name}}`, and for a comment
/// `{{comment.author}}` and `{{comment.body}}`.
struct NotificationValues {
    var requestKey: String
    var summary: String
    var status: RequestStatus
    var projectKey: String
    var projectName: String
    var customerAddress: String
    var customerName: String?
    var commentAuthor: String?
    var commentBody: String?

    /// The values as mustache reads them.
    var context: [String: Any] {
        var values: [String: Any] = [
            "request": ["key": requestKey, "summary": summary, "status": status.rawValue],
            "project": ["key": projectKey, "name": projectName],
            "customer": ["address": customerAddress, "name": customerName ?? ""],
        ]
        if let commentAuthor, let commentBody {
            values["comment"] = ["author": commentAuthor, "body": commentBody]
        }
        return values
    }

    /// Values to check a template with before it is saved.
    static let sample = NotificationValues(
        requestKey: "SD-1", summary: "Printer", status: .waitingForCustomer, projectKey: "SD", projectName: "Desk",
        customerAddress: "alice@example.com", customerName: "Alice", commentAuthor: "Agent", commentBody: "Hello")
}

/// A notification rendered: its subject, its text (the reply marker first) and its HTML.
struct RenderedNotification: Equatable {
    var subject: String
    var text: String
    var html: String
}

extension CompiledNotificationTemplate {
    /// Renders the parts for `values`; the reply marker of `language` opens the text and the HTML, so that a reply
    /// in either form is cut above it, and the subject always carries the request's key (replies thread by it).
    func render(_ values: NotificationValues, language: ConsoleLocale) -> RenderedNotification {
        let context = values.context
        var subject = subject.render(context).split(whereSeparator: \.isNewline).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
        if !subject.contains(values.requestKey) { subject = "[\(values.requestKey)] " + subject }
        let marker = NotificationComposer.replyMarker(language)
        let body = text.render(context)
        var document: [String: Any] = ["marker": marker, "text": body]
        if let html { document["html"] = html.render(context) }
        return RenderedNotification(
            subject: subject, text: marker + "\n\n" + body, html: self.document.render(document))
    }
}
