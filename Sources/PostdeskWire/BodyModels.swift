import Foundation

/// Body of `POST /v1/tokens` (admin socket only).
public struct APITokenBody: Codable, Sendable {
    public var name: String
    public var role: AgentRole

    public init(name: String, role: AgentRole) {
        self.name = name
        self.role = role
    }
}

/// A created token: the only time its secret is shown.
public struct APITokenCreated: Codable, Sendable {
    public var token: APIToken
    public var secret: String

    /// Makes the value from its fields.
    public init(token: APIToken, secret: String) {
        self.token = token
        self.secret = secret
    }
}

/// Body of `PATCH /v1/projects/{project}/notifications`.
public struct NotificationSettingsBody: Codable, Sendable {
    /// Whether new requests are acknowledged; nil leaves it.
    public var notifyReceived: Bool?

    public init(notifyReceived: Bool?) { self.notifyReceived = notifyReceived }
}

/// Body of `PUT /v1/projects/{project}/notifications/{kind}/{language}`: mustache templates.
public struct NotificationTemplateBody: Codable, Sendable {
    /// nil: the built-in subject.
    public var subject: String?
    public var text: String
    /// nil: the HTML part is the text, escaped.
    public var html: String?

    public init(subject: String?, text: String, html: String?) {
        self.subject = subject
        self.text = text
        self.html = html
    }
}

/// Answer of `DELETE /v1/projects/{project}/notifications/{kind}/{language}`.
public struct NotificationTemplateReset: Codable, Sendable {
    public var kind: NotificationKind
    public var language: ConsoleLocale
    /// False when the project had no template of its own there.
    public var reset: Bool

    /// Makes the value from its fields.
    public init(kind: NotificationKind, language: ConsoleLocale, reset: Bool) {
        self.kind = kind
        self.language = language
        self.reset = reset
    }
}

/// What `postdesk backup` sends.
public struct BackupBody: Codable, Sendable {
    public var directory: String
    public var includeSecretKey: Bool

    public init(directory: String, includeSecretKey: Bool) {
        self.directory = directory
        self.includeSecretKey = includeSecretKey
    }
}
