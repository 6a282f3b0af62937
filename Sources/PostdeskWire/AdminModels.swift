import Foundation

/// Body of `POST /v1/projects`.
public struct CreateProjectBody: Codable, Sendable {
    public var key: String
    public var name: String
    public var signup: SignupPolicy
    public init(key: String, name: String, signup: SignupPolicy) {
        self.key = key
        self.name = name
        self.signup = signup
    }
}

/// A project as the API shows it.
public struct ProjectView: Codable, Sendable {
    public var key: String
    public var name: String
    public var signup: SignupPolicy

    /// Makes the value from its fields.
    public init(key: String, name: String, signup: SignupPolicy) {
        self.key = key
        self.name = name
        self.signup = signup
    }
}

/// Body of `POST /v1/projects/{key}/request-types`.
public struct RequestTypeBody: Codable, Sendable {
    public var name: String
    public var fields: [RequestField]
    public init(name: String, fields: [RequestField]) {
        self.name = name
        self.fields = fields
    }
}

/// A request type as the API shows it, with whether it can receive email.
public struct RequestTypeView: Codable, Sendable {
    public var name: String
    public var fields: [RequestField]
    public var emailProblem: String?

    /// Makes the value from its fields.
    public init(name: String, fields: [RequestField], emailProblem: String? = nil) {
        self.name = name
        self.fields = fields
        self.emailProblem = emailProblem
    }
}

/// Body of `PUT /v1/smtp`; host, port and TLS may be left out for a known provider.
public struct SMTPBody: Codable, Sendable {
    public var provider: MailProvider?
    public var host: String?
    public var port: Int?
    public var tls: ServerTLS?
    public var caFile: String?
    public var from: String
    public var username: String?
    /// The password, or the token file or command for OAuth 2.
    public var password: String?
    /// `password` (default), `oauth2-file` or `oauth2-command`.
    public var authMethod: AuthMethod?
    /// The admin accepts `tls: none` to a relay that is not on this machine.
    public var insecurePlaintext: Bool?
    /// Save the settings even when the relay's test fails.
    public var saveAnyway: Bool?
    /// For `oauth2-app`: the finished sign-in whose grant the relay logs in with.
    public var oauthFlow: String?
    public init(
        provider: MailProvider?, host: String?, port: Int?, tls: ServerTLS?, caFile: String?, from: String,
        username: String?, password: String?, authMethod: AuthMethod? = nil, insecurePlaintext: Bool? = nil,
        saveAnyway: Bool? = nil, oauthFlow: String? = nil
    ) {
        self.oauthFlow = oauthFlow
        self.insecurePlaintext = insecurePlaintext
        self.saveAnyway = saveAnyway
        self.authMethod = authMethod
        self.provider = provider
        self.host = host
        self.port = port
        self.tls = tls
        self.caFile = caFile
        self.from = from
        self.username = username
        self.password = password
    }
}

/// The relay as the API shows it (never the password).
public struct SMTPView: Codable, Sendable {
    public var host: String
    public var port: Int
    public var tls: ServerTLS
    public var from: String
    public var username: String?

    /// Makes the value from its fields.
    public init(host: String, port: Int, tls: ServerTLS, from: String, username: String? = nil) {
        self.host = host
        self.port = port
        self.tls = tls
        self.from = from
        self.username = username
    }
}

/// Body of `POST /v1/projects/{key}/channels`. Host, port and TLS may be left out for a known
/// provider; the password field holds the token file or command for OAuth 2.
public struct ChannelBody: Codable, Sendable {
    public var address: String
    public var `protocol`: MailboxProtocol
    public var provider: MailProvider
    public var host: String?
    public var port: Int?
    public var tls: ServerTLS?
    public var caFile: String?
    public var username: String
    public var password: String
    public var authMethod: AuthMethod
    public var requestType: String
    public var extraAddresses: [String]
    /// The admin accepts `tls: none` to a server that is not on this machine.
    public var insecurePlaintext: Bool?
    /// For `oauth2-app`: the finished sign-in (`POST /v1/oauth/flows`) whose grant the channel logs in with.
    public var oauthFlow: String?

    public init(
        address: String, protocol: MailboxProtocol, provider: MailProvider, host: String?, port: Int?, tls: ServerTLS?,
        caFile: String?, username: String, password: String, authMethod: AuthMethod, requestType: String,
        extraAddresses: [String], insecurePlaintext: Bool? = nil, oauthFlow: String? = nil
    ) {
        self.oauthFlow = oauthFlow
        self.insecurePlaintext = insecurePlaintext
        self.address = address
        self.protocol = `protocol`
        self.provider = provider
        self.host = host
        self.port = port
        self.tls = tls
        self.caFile = caFile
        self.username = username
        self.password = password
        self.authMethod = authMethod
        self.requestType = requestType
        self.extraAddresses = extraAddresses
    }
}

/// A channel as the API shows it (never the password).
public struct ChannelView: Codable, Sendable {
    public var address: String
    public var project: String
    public var `protocol`: MailboxProtocol
    public var provider: MailProvider
    public var host: String
    public var port: Int
    public var tls: ServerTLS
    public var username: String
    public var authMethod: AuthMethod
    public var extraAddresses: [String]
    public var enabled: Bool
    public var linkedAt: Date
    /// What the admin should know after linking (POP3 deletes mail, Gmail over POP3…).
    public var warnings: [String]

    /// Makes the value from its fields.
    public init(
        address: String, project: String, protocol: MailboxProtocol, provider: MailProvider, host: String, port: Int,
        tls: ServerTLS, username: String, authMethod: AuthMethod, extraAddresses: [String], enabled: Bool,
        linkedAt: Date, warnings: [String]
    ) {
        self.address = address
        self.protocol = `protocol`
        self.project = project
        self.provider = provider
        self.host = host
        self.port = port
        self.tls = tls
        self.username = username
        self.authMethod = authMethod
        self.extraAddresses = extraAddresses
        self.enabled = enabled
        self.linkedAt = linkedAt
        self.warnings = warnings
    }
}

/// Body of `POST /v1/projects/{key}/customer-rules` and `DELETE` of the same.
public struct CustomerRuleBody: Codable, Sendable {
    public var kind: CustomerRuleKind
    public var pattern: String
    public init(kind: CustomerRuleKind, pattern: String) {
        self.kind = kind
        self.pattern = pattern
    }
}

/// Body of `POST /v1/projects/{key}/customers`.
public struct CustomerBody: Codable, Sendable {
    public var address: String
    public var name: String?
    public init(address: String, name: String?) {
        self.address = address
        self.name = name
    }
}

/// A customer as the API shows it.
public struct CustomerView: Codable, Sendable {
    public var address: String
    public var name: String?

    /// Makes the value from its fields.
    public init(address: String, name: String? = nil) {
        self.address = address
        self.name = name
    }
}

/// One row of `postdesk queue`.
public struct QueueRowView: Codable, Sendable {
    public var key: String
    public var summary: String
    public var status: String
    public var reporter: String
    public var created: Date

    /// Makes the value from its fields.
    public init(key: String, summary: String, status: String, reporter: String, created: Date) {
        self.key = key
        self.summary = summary
        self.status = status
        self.reporter = reporter
        self.created = created
    }
}

/// One comment of `postdesk request show`.
public struct CommentView: Codable, Sendable {
    public var author: String
    public var body: String
    public var `public`: Bool
    public var source: String

    /// Makes the value from its fields.
    public init(author: String, body: String, public: Bool, source: String) {
        self.author = author
        self.body = body
        self.public = `public`
        self.source = source
    }
}

/// `postdesk request show`.
public struct RequestView: Codable, Sendable {
    public var key: String
    public var summary: String
    public var description: String
    public var status: String
    public var reporter: String
    public var comments: [CommentView]
    public var participants: [String]
    public var attachments: [AttachmentView]

    /// Makes the value from its fields.
    public init(
        key: String, summary: String, description: String, status: String, reporter: String, comments: [CommentView],
        participants: [String], attachments: [AttachmentView]
    ) {
        self.key = key
        self.summary = summary
        self.description = description
        self.status = status
        self.reporter = reporter
        self.comments = comments
        self.participants = participants
        self.attachments = attachments
    }
}

/// An attachment kept with a request.
public struct AttachmentView: Codable, Sendable {
    public var filename: String
    public var contentType: String
    public var size: Int
    public var sha256: String
    public var inline: Bool
    public var path: String

    /// Makes the value from its fields.
    public init(filename: String, contentType: String, size: Int, sha256: String, inline: Bool, path: String) {
        self.filename = filename
        self.contentType = contentType
        self.size = size
        self.sha256 = sha256
        self.inline = inline
        self.path = path
    }
}

/// Body of `POST /v1/requests/{key}/comments`.
public struct CommentBody: Codable, Sendable {
    public var author: String
    public var body: String
    public var `internal`: Bool
    public init(author: String, body: String, internal: Bool) {
        self.author = author
        self.body = body
        self.internal = `internal`
    }
}

/// The answer to a new comment: whether a notification was queued.
public struct CommentResult: Codable, Sendable {
    public var request: String
    public var `public`: Bool
    public var notificationMessageId: String?

    /// Makes the value from its fields.
    public init(request: String, public: Bool, notificationMessageId: String? = nil) {
        self.request = request
        self.public = `public`
        self.notificationMessageId = notificationMessageId
    }
}

/// `GET /v1/health`: what every channel and the SMTP relay are doing.
public struct HealthView: Codable, Sendable {
    public var status: String
    /// The server's `PostdeskVersion.current`; nil from a server older than this field.
    public var version: String?
    public var channels: [ChannelStatusView]
    /// Every channel and relay whose TLS is none to a host not on this machine, one line each
    /// ("…: plaintext: passwords and mail cross the network unencrypted").
    public var plaintext: [String]
    public var relay: RelayStatusView

    /// Makes the value from its fields.
    public init(
        status: String, version: String? = nil, channels: [ChannelStatusView], plaintext: [String],
        relay: RelayStatusView
    ) {
        self.status = status
        self.version = version
        self.channels = channels
        self.plaintext = plaintext
        self.relay = relay
    }
}

/// One channel's live state.
public struct ChannelStatusView: Codable, Sendable {
    public var address: String
    public var state: MailboxState
    public var detail: String?
    public var retryAt: Date?
    public var lastSuccessAt: Date?
    public var lastError: String?
    public var processedToday: Int
    /// The channel's OAuth 2.0 grant, when postdesk holds one: when it was last refreshed, and why it failed.
    public var oauth: OAuthGrantView? = nil
    /// Several nodes on PostgreSQL: the node that holds the mailbox's lease (nil: none holds it now).
    public var owner: String? = nil
    /// Several nodes: until when the lease lasts unless renewed.
    public var leaseExpiresAt: Date? = nil
    /// Several nodes: the lease's fencing token, one more with every new owner.
    public var fencingToken: Int64? = nil

    /// Makes the value from its fields.
    public init(
        address: String, state: MailboxState, detail: String? = nil, retryAt: Date? = nil, lastSuccessAt: Date? = nil,
        lastError: String? = nil, processedToday: Int, oauth: OAuthGrantView? = nil
    ) {
        self.address = address
        self.state = state
        self.detail = detail
        self.retryAt = retryAt
        self.lastSuccessAt = lastSuccessAt
        self.lastError = lastError
        self.processedToday = processedToday
        self.oauth = oauth
    }
}

/// `GET /v1/nodes`: one node of a desk on PostgreSQL, and the mailboxes it holds leases on.
public struct NodeView: Codable, Sendable, Equatable {
    public var name: String
    /// Counts up each time a node of this name starts.
    public var incarnation: Int64
    /// Heartbeating and not stopped: it counts for the fair share.
    public var live: Bool
    public var startedAt: Date
    public var heartbeatAt: Date
    /// Until when the last heartbeat keeps the node live.
    public var expiresAt: Date
    /// When it left (a graceful shutdown), nil while it runs or after a crash.
    public var stoppedAt: Date?
    /// The addresses of the mailboxes it holds leases on now.
    public var mailboxes: [String]

    /// Makes the value from its fields.
    public init(
        name: String, incarnation: Int64, live: Bool, startedAt: Date, heartbeatAt: Date, expiresAt: Date,
        stoppedAt: Date?, mailboxes: [String]
    ) {
        self.name = name
        self.incarnation = incarnation
        self.live = live
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.expiresAt = expiresAt
        self.stoppedAt = stoppedAt
        self.mailboxes = mailboxes
    }
}

/// One line of the processing log.
public struct LogEntry: Codable, Sendable {
    public var time: Date
    public var channel: String
    public var from: String?
    public var subject: String?
    public var outcome: InboundOutcome
    public var request: String?
    public var detail: String?
    public var notes: [String]?
    /// The stored mail, for `postdesk inbound show|retry|release|drop`; nil for a mailbox event.
    public var inbound: Int64?
    public var attempts: Int?

    /// Makes the value from its fields.
    public init(
        time: Date, channel: String, from: String? = nil, subject: String? = nil, outcome: InboundOutcome,
        request: String? = nil, detail: String? = nil, notes: [String]? = nil, inbound: Int64? = nil,
        attempts: Int? = nil
    ) {
        self.time = time
        self.channel = channel
        self.from = from
        self.subject = subject
        self.outcome = outcome
        self.request = request
        self.detail = detail
        self.notes = notes
        self.inbound = inbound
        self.attempts = attempts
    }
}

/// The error body every failing call returns.
public struct ErrorBody: Codable, Sendable {
    public var error: String

    /// Makes the value from its fields.
    public init(error: String) {
        self.error = error
    }
}

/// JSON coding shared by server and client: ISO 8601 dates, sorted keys.
/// The JSON of the API: ISO 8601 dates, sorted keys; the one place both sides set it.
public enum AdminJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

/// `channel verify`: the test email's round trip, with the mailbox's live state for diagnosis.
public struct VerificationView: Codable, Sendable {
    public var verification: VerificationState
    public var mailbox: ChannelStatusView?

    /// Makes the value from its fields.
    public init(verification: VerificationState, mailbox: ChannelStatusView? = nil) {
        self.verification = verification
        self.mailbox = mailbox
    }
}
