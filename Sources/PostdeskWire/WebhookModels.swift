import Foundation

/// Body of `POST /v1/webhooks`: where to send, which events (all three when absent or empty), and optionally only
/// one project's.
public struct WebhookBody: Codable, Sendable {
    public var url: String
    public var events: [WebhookEvent]?
    /// A project's key; absent: every project.
    public var project: String?

    public init(url: String, events: [WebhookEvent]?, project: String?) {
        self.url = url
        self.events = events
        self.project = project
    }
}

/// A webhook as `GET /v1/webhooks` shows it (never its secret).
public struct WebhookView: Codable, Sendable {
    public var id: Int64
    public var url: String
    public var events: [WebhookEvent]
    /// nil: every project.
    public var project: String?
    public var active: Bool
    public var createdAt: Date
    /// Deliveries waiting to be sent or retried.
    public var pending: Int
    /// Deliveries given up (`webhook retry` sends one again).
    public var failed: Int
    public var lastSentAt: Date?

    /// Makes the value from its fields.
    public init(
        id: Int64, url: String, events: [WebhookEvent], project: String? = nil, active: Bool, createdAt: Date,
        pending: Int, failed: Int, lastSentAt: Date? = nil
    ) {
        self.id = id
        self.url = url
        self.events = events
        self.project = project
        self.active = active
        self.createdAt = createdAt
        self.pending = pending
        self.failed = failed
        self.lastSentAt = lastSentAt
    }
}

/// The answer to `POST /v1/webhooks`: the only time the signing secret is shown.
public struct WebhookCreated: Codable, Sendable {
    public var webhook: WebhookView
    public var secret: String

    /// Makes the value from its fields.
    public init(webhook: WebhookView, secret: String) {
        self.webhook = webhook
        self.secret = secret
    }
}

/// One delivery as `GET /v1/webhooks/{id}/deliveries` shows it.
public struct WebhookDeliveryView: Codable, Sendable {
    public var id: Int64
    public var webhookId: Int64
    public var event: WebhookEvent
    public var status: WebhookDeliveryStatus
    public var attempts: Int
    /// When it is tried next; nil unless pending.
    public var nextAttemptAt: Date?
    /// The receiver's HTTP status at the last attempt; nil when none answered.
    public var responseCode: Int?
    /// The first 500 characters of the receiver's answer, or why there was none.
    public var lastResponse: String?
    public var createdAt: Date
    public var sentAt: Date?
    /// The JSON body, as sent.
    public var payload: String

    /// Makes the value from its fields.
    public init(
        id: Int64, webhookId: Int64, event: WebhookEvent, status: WebhookDeliveryStatus, attempts: Int,
        nextAttemptAt: Date? = nil, responseCode: Int? = nil, lastResponse: String? = nil, createdAt: Date,
        sentAt: Date? = nil, payload: String
    ) {
        self.id = id
        self.webhookId = webhookId
        self.event = event
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.responseCode = responseCode
        self.lastResponse = lastResponse
        self.createdAt = createdAt
        self.sentAt = sentAt
        self.payload = payload
    }
}

/// The answer to `DELETE /v1/webhooks/{id}`.
public struct WebhookRemoved: Codable, Sendable {
    public var removed: Int64

    /// Makes the value from its fields.
    public init(removed: Int64) {
        self.removed = removed
    }
}

/// The answer to `POST /v1/webhooks/deliveries/{id}/retry`: the delivery set pending, due now.
public struct WebhookRetried: Codable, Sendable {
    public var retried: Int64

    /// Makes the value from its fields.
    public init(retried: Int64) {
        self.retried = retried
    }
}
