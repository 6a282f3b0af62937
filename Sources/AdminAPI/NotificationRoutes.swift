import Foundation
import Hummingbird
import ServiceDesk

/// `/v1/projects/{project}/notifications`: the project's notifications to customers. The acknowledgement of new
/// requests turned on or off, and each template (kind and language) shown, replaced, previewed or reset.
struct NotificationRoutes: Sendable {
    let store: DeskStore

    func addRoutes(to group: RouterGroup<AdminRequestContext>) {
        group.get { _, context in
            try await store.notifications(projectKey: try context.parameters.require("project"))
        }
        group.patch { request, context in
            let project = try context.parameters.require("project")
            let body = try await request.decode(as: NotificationSettingsBody.self, context: context)
            if let on = body.notifyReceived { try await store.setNotifyReceived(projectKey: project, on) }
            return try await store.notifications(projectKey: project)
        }
        group.put(":kind/:language") { request, context in
            let (kind, language) = try Self.template(context)
            let body = try await request.decode(as: NotificationTemplateBody.self, context: context)
            return try await store.setNotificationTemplate(
                projectKey: try context.parameters.require("project"), kind: kind, language: language,
                subject: body.subject, text: body.text, html: body.html)
        }
        group.get(":kind/:language/preview") { _, context in
            let (kind, language) = try Self.template(context)
            return try await store.previewNotification(
                projectKey: try context.parameters.require("project"), kind: kind, language: language)
        }
        group.delete(":kind/:language") { _, context in
            let (kind, language) = try Self.template(context)
            let reset = try await store.resetNotificationTemplate(
                projectKey: try context.parameters.require("project"), kind: kind, language: language)
            return NotificationTemplateReset(kind: kind, language: language, reset: reset)
        }
    }

    /// The kind and the language a path names, or a 400 that lists the ones there are.
    static func template(_ context: AdminRequestContext) throws -> (NotificationKind, ConsoleLocale) {
        let kindName = try context.parameters.require("kind")
        let languageName = try context.parameters.require("language")
        guard let kind = NotificationKind(rawValue: kindName.lowercased()) else {
            throw DeskError(
                .invalid,
                "unknown notification \"\(kindName)\"; there are "
                    + NotificationKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard let language = ConsoleLocale(rawValue: languageName.lowercased()) else {
            throw DeskError(
                .invalid,
                "unknown language \"\(languageName)\"; there are "
                    + ConsoleLocale.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return (kind, language)
    }
}

extension ProjectNotifications: ResponseEncodable {}
extension NotificationPreview: ResponseEncodable {}
extension NotificationTemplateReset: ResponseEncodable {}
