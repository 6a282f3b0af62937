import Foundation

/// One notification as `GET /v1/outbox` shows it (never its bytes).
public struct OutboxItemView: Codable, Sendable {
    public var id: Int64
    public var request: String
    public var messageId: String
    public var recipients: [String]
    public var status: OutboxStatus
    /// Attempts the relay answered; a relay that could not be used does not count.
    public var attempts: Int
    /// The relay's words at the last attempt.
    public var lastReply: String?
    /// Recipients refused at the last attempt, with the relay's reply for each.
    public var refusedRecipients: [String: String]
    /// When it is tried next; nil unless pending.
    public var nextAttemptAt: Date?
    /// Why a pending notification waits beyond `nextAttemptAt`: the relay fails or is not set (see `postdesk status`).
    public var heldBecause: String?
    public var sentAt: Date?
    public var createdAt: Date

    /// Makes the value from its fields.
    public init(
        id: Int64, request: String, messageId: String, recipients: [String], status: OutboxStatus, attempts: Int,
        lastReply: String? = nil, refusedRecipients: [String: String], nextAttemptAt: Date? = nil,
        heldBecause: String? = nil, sentAt: Date? = nil, createdAt: Date
    ) {
        self.id = id
        self.request = request
        self.messageId = messageId
        self.recipients = recipients
        self.status = status
        self.attempts = attempts
        self.lastReply = lastReply
        self.refusedRecipients = refusedRecipients
        self.nextAttemptAt = nextAttemptAt
        self.heldBecause = heldBecause
        self.sentAt = sentAt
        self.createdAt = createdAt
    }
}

/// The answer to `POST /v1/outbox/{id}/retry` and `POST /v1/outbox/retry-failed`: the notifications set pending.
public struct OutboxRetryResult: Codable, Sendable {
    public var retried: [Int64]

    /// Makes the value from its fields.
    public init(retried: [Int64]) {
        self.retried = retried
    }
}

/// The SMTP relay and the outbox in `GET /v1/health`.
public struct RelayStatusView: Codable, Sendable {
    public var state: RelayState
    /// When the state began.
    public var since: Date?
    public var lastDeliveryAt: Date?
    /// Failed sessions in a row.
    public var failures: Int
    /// When the relay is tried again, while failing.
    public var retryAt: Date?
    /// The relay's own words, verbatim.
    public var serverText: String?
    /// Our reading of the failure.
    public var diagnosis: String?
    public var fix: String?
    /// A stable name of the cause (`badCredentials`, `tlsRequired`, `senderRefused`, `transient`…).
    public var cause: String?
    /// Notifications the relay took whose sending the store has not recorded yet (they are not sent again).
    public var unrecordedDeliveries: Int
    /// Notifications waiting, of which `due` are due now, and given up.
    public var pending: Int
    public var due: Int
    public var failed: Int
    /// When the oldest pending notification was queued (for `postdesk status --check`); nil when none waits.
    public var oldestPendingAt: Date?
    /// The relay's OAuth 2.0 grant, when postdesk holds one.
    public var oauth: OAuthGrantView? = nil

    /// Makes the value from its fields.
    public init(
        state: RelayState, since: Date? = nil, lastDeliveryAt: Date? = nil, failures: Int, retryAt: Date? = nil,
        serverText: String? = nil, diagnosis: String? = nil, fix: String? = nil, cause: String? = nil,
        unrecordedDeliveries: Int, pending: Int, due: Int, failed: Int, oldestPendingAt: Date? = nil,
        oauth: OAuthGrantView? = nil
    ) {
        self.state = state
        self.since = since
        self.lastDeliveryAt = lastDeliveryAt
        self.failures = failures
        self.retryAt = retryAt
        self.serverText = serverText
        self.diagnosis = diagnosis
        self.fix = fix
        self.cause = cause
        self.unrecordedDeliveries = unrecordedDeliveries
        self.pending = pending
        self.due = due
        self.failed = failed
        self.oldestPendingAt = oldestPendingAt
        self.oauth = oauth
    }
}

/// The answer to `PUT /v1/smtp`: the relay, the test of its login, and whether the settings were saved.
public struct SMTPSetResult: Codable, Sendable {
    public var relay: SMTPView
    public var test: ChannelTestReport
    public var saved: Bool
    /// Why nothing was saved: the test failed and `saveAnyway` was not asked for.
    public var error: String?

    /// Makes the value from its fields.
    public init(relay: SMTPView, test: ChannelTestReport, saved: Bool, error: String? = nil) {
        self.relay = relay
        self.test = test
        self.saved = saved
        self.error = error
    }
}
