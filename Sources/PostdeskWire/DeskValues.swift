import Foundation

/// One notification as `postdesk outbox` lists it: the row without its bytes, with its request's key.
public struct OutboxEntry: Codable, Sendable, Equatable {
    public var id: Int64
    public var requestKey: String
    public var messageId: String
    public var recipients: [String]
    public var status: OutboxStatus
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastReply: String?
    public var refusedRecipients: [String: String]
    public var createdAt: Date
    public var sentAt: Date?

    /// Makes the value from its fields.
    public init(
        id: Int64, requestKey: String, messageId: String, recipients: [String], status: OutboxStatus, attempts: Int,
        nextAttemptAt: Date, lastReply: String? = nil, refusedRecipients: [String: String], createdAt: Date,
        sentAt: Date? = nil
    ) {
        self.id = id
        self.requestKey = requestKey
        self.messageId = messageId
        self.recipients = recipients
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastReply = lastReply
        self.refusedRecipients = refusedRecipients
        self.createdAt = createdAt
        self.sentAt = sentAt
    }
}

/// A project's notifications: whether new requests are acknowledged, and the template of each kind and language.
public struct ProjectNotifications: Sendable, Equatable, Codable {
    /// One template as it is used now.
    public struct Entry: Sendable, Equatable, Codable {
        public var kind: NotificationKind
        public var language: ConsoleLocale
        /// The project's own template; false: the built-in one.
        public var custom: Bool
        public var template: NotificationTemplate

        /// Makes the value from its fields.
        public init(kind: NotificationKind, language: ConsoleLocale, custom: Bool, template: NotificationTemplate) {
            self.kind = kind
            self.language = language
            self.custom = custom
            self.template = template
        }
    }

    public var projectKey: String
    /// Whether a new request is acknowledged by mail ("request received"); off unless turned on.
    public var notifyReceived: Bool
    /// Every kind in every language, kind first.
    public var templates: [Entry]

    /// Makes the value from its fields.
    public init(projectKey: String, notifyReceived: Bool, templates: [Entry]) {
        self.projectKey = projectKey
        self.notifyReceived = notifyReceived
        self.templates = templates
    }
}

/// A notification rendered with sample values, as `postdesk notification show --preview` prints it.
public struct NotificationPreview: Sendable, Equatable, Codable {
    public var subject: String
    public var text: String
    public var html: String

    /// Makes the value from its fields.
    public init(subject: String, text: String, html: String) {
        self.subject = subject
        self.text = text
        self.html = html
    }
}

/// A token of the HTTP API (`postdesk token create`): its name and role; the secret is shown once and only its
/// SHA-256 is stored.
public struct APIToken: Sendable, Equatable, Codable {
    public var name: String
    public var role: AgentRole
    public var createdAt: Date
    public var lastUsedAt: Date?

    public init(name: String, role: AgentRole, createdAt: Date, lastUsedAt: Date?) {
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}

/// What a backup holds, written beside it as `backup.json` and checked again by a restore.
public struct BackupManifest: Codable, Sendable, Equatable {
    /// The manifest's own format.
    public var format: Int = 1
    /// The last schema migration of the copied database.
    public var schema: String
    public var createdAt: Date
    public var requests: Int
    public var comments: Int
    public var inbound: Int
    /// SHA-256 of every attachment file the database references; each file is checked against it.
    public var attachments: [String]
    /// Whether the key sealing the stored passwords was copied too (`secret.key`).
    public var includesSecretKey: Bool

    /// The file name of the manifest inside a backup directory.
    public static let fileName = "backup.json"
    /// The database file name, in a backup and in a data directory.
    public static let databaseName = "postdesk.sqlite"

    /// Makes the value from its fields.
    public init(
        format: Int = 1, schema: String, createdAt: Date, requests: Int, comments: Int, inbound: Int,
        attachments: [String], includesSecretKey: Bool
    ) {
        self.format = format
        self.schema = schema
        self.createdAt = createdAt
        self.requests = requests
        self.comments = comments
        self.inbound = inbound
        self.attachments = attachments
        self.includesSecretKey = includesSecretKey
    }
}

/// The outcome of a connection test: each step in order, what the server offers, how many messages would be
/// processed, and on failure the server's own words with our diagnosis and fix.
public struct ChannelTestReport: Codable, Sendable, Equatable {
    /// One step of the test.
    public struct Step: Codable, Sendable, Equatable {
        public var name: String
        public var ok: Bool
        public var detail: String

        /// A step.
        public init(name: String, ok: Bool, detail: String) {
            self.name = name
            self.ok = ok
            self.detail = detail
        }
    }

    /// Our reading of the failure (`MailboxDiagnosis`).
    public struct Diagnosis: Codable, Sendable, Equatable {
        /// A stable name of the cause: `gmailWebLoginRequired`, `yahooAccountVerification`, `outlookLoginLimit`,
        /// `microsoftNotConnected`, `throttled`, `badCredentials`, `tlsConfiguration`, `transient`.
        public var cause: String
        public var summary: String
        public var fix: String
        /// Only an admin can clear it; retrying will not help.
        public var needsAttention: Bool

        /// A diagnosis.
        public init(cause: String, summary: String, fix: String, needsAttention: Bool) {
            self.cause = cause
            self.summary = summary
            self.fix = fix
            self.needsAttention = needsAttention
        }
    }

    /// Whether every step succeeded.
    public var ok: Bool
    public var steps: [Step]
    /// The mailbox server's capabilities (after TLS and login), uppercased and sorted.
    public var capabilities: [String]
    /// Messages the channel would process now; `nil` when the test did not get that far or cannot tell.
    public var wouldProcess: Int?
    /// The server's words for the first failure, verbatim.
    public var serverText: String?
    /// Diagnosis of the first failure.
    public var diagnosis: Diagnosis?
    /// What the admin should know even when every step passed (OAuth 2.0 recommended for Gmail and Microsoft).
    public var advice: [String] = []

    /// A report.
    public init(
        steps: [Step],
        capabilities: [String] = [],
        wouldProcess: Int? = nil,
        serverText: String? = nil,
        diagnosis: Diagnosis? = nil
    ) {
        self.ok = steps.allSatisfy(\.ok)
        self.steps = steps
        self.capabilities = capabilities
        self.wouldProcess = wouldProcess
        self.serverText = serverText
        self.diagnosis = diagnosis
    }

    /// The report for people: each step with ✓/✗, then the server's words verbatim, the diagnosis and the fix.
    public func renderText() -> String {
        var lines = steps.map { step in
            "\(step.ok ? "✓" : "✗") \(step.name)" + (step.detail.isEmpty ? "" : ": \(step.detail)")
        }
        if !capabilities.isEmpty {
            lines.append("Capabilities: \(capabilities.joined(separator: " "))")
        }
        if let wouldProcess {
            lines.append("Messages that would be processed now: \(wouldProcess)")
        }
        if let serverText, !serverText.isEmpty {
            lines.append("Server said: \(serverText)")
        }
        if let diagnosis {
            lines.append("Diagnosis: \(diagnosis.summary)")
            lines.append("Fix: \(diagnosis.fix)")
        }
        lines += advice.map { "Advice: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// One notification's templates, in mustache: the subject and the text (nothing escaped), and the HTML part (every
/// value HTML-escaped; nil: the HTML is the text, escaped, in a preformatted block).
public struct NotificationTemplate: Sendable, Equatable, Codable {
    public var subject: String
    public var text: String
    public var html: String?

    public init(subject: String, text: String, html: String?) {
        self.subject = subject
        self.text = text
        self.html = html
    }
}

/// Where a `channel verify` round trip stands.
public struct VerificationState: Sendable, Equatable, Codable {
    public var token: String
    public var channelAddress: String
    public var createdAt: Date
    /// The relay's reply when it accepted the test email.
    public var sendReply: String?
    /// Why the relay did not accept it.
    public var sendError: String?
    /// The test request the email became.
    public var requestKey: String?

    /// Makes the value from its fields.
    public init(
        token: String, channelAddress: String, createdAt: Date, sendReply: String? = nil, sendError: String? = nil,
        requestKey: String? = nil
    ) {
        self.token = token
        self.channelAddress = channelAddress
        self.createdAt = createdAt
        self.sendReply = sendReply
        self.sendError = sendError
        self.requestKey = requestKey
    }
}

/// An agent account as the rest of postdesk and the API see it: never its password hash, only whether one is set.
public struct Agent: Sendable, Equatable, Codable {
    public var id: Int64
    /// Normalised (lowercased, trimmed); unique without regard to case.
    public var email: String
    public var name: String
    public var role: AgentRole
    public var disabled: Bool
    /// The agent's own choice of language; nil: the browser's Accept-Language decides.
    public var locale: ConsoleLocale?
    public var passwordSet: Bool
    public var createdAt: Date

    public init(
        id: Int64, email: String, name: String, role: AgentRole, disabled: Bool, locale: ConsoleLocale?,
        passwordSet: Bool, createdAt: Date
    ) {
        self.id = id
        self.email = email
        self.name = name
        self.role = role
        self.disabled = disabled
        self.locale = locale
        self.passwordSet = passwordSet
        self.createdAt = createdAt
    }
}
