import Foundation

/// Whether unknown senders become customers automatically.
public enum SignupPolicy: String, Sendable, Codable, CaseIterable {
    /// Anyone who writes becomes a customer.
    case `public`
    /// Only customers added by an admin are processed.
    case restricted
}

/// One field of a request type, with whether customers see it and must fill it.
public struct RequestField: Codable, Sendable, Equatable {
    public var name: String
    public var visible: Bool
    public var required: Bool

    public init(name: String, visible: Bool, required: Bool) {
        self.name = name
        self.visible = visible
        self.required = required
    }
}

/// The mailbox protocol of a channel.
public enum MailboxProtocol: String, Sendable, Codable, CaseIterable {
    case imap, pop3
    /// Push delivery: an MTA delivers into `serve --lmtp-listen` (RFC 2033); no server, login or watermark.
    case lmtp
}

/// The mail provider a channel or the relay was linked as: it fills in servers, and sets the poll
/// interval and the diagnosis of the provider's own replies.
public enum MailProvider: String, Sendable, Codable, CaseIterable {
    case gmail, yahoo, outlook
    /// Any other server: host, port and TLS are given.
    case custom
}

/// How postdesk logs in to a mailbox or the relay: the stored secret is a password, or names where an
/// OAuth 2.0 access token is read anew at each login, or postdesk holds the grant (OAUTHBEARER or XOAUTH2).
public enum AuthMethod: String, Sendable, Codable, CaseIterable {
    /// The secret is the password.
    case password
    /// The secret is a file holding the access token.
    case oauth2File = "oauth2-file"
    /// The secret is a command that prints the access token.
    case oauth2Command = "oauth2-command"
    /// postdesk holds an OAuth 2.0 grant from one of the admin's apps (`oauth app add`) and refreshes it itself;
    /// the secret is empty.
    case oauth2App = "oauth2-app"
}

/// The TLS mode of a stored server setting (mirrors the client library's modes).
public enum ServerTLS: String, Sendable, Codable, CaseIterable {
    case implicit, starttls, none
}

/// Where a request stands.
public enum RequestStatus: String, Sendable, Codable {
    case waitingForSupport = "Waiting for support"
    case waitingForCustomer = "Waiting for customer"
    case resolved = "Resolved"
}

/// Where a comment came from.
public enum CommentSource: String, Sendable, Codable {
    /// A customer's email reply.
    case email
    /// An agent through the admin interface.
    case agent
}

/// The two customer lists of a project.
public enum CustomerRuleKind: String, Sendable, Codable, CaseIterable {
    case allow, block
}

/// What an agent may do in the console: an admin also runs the admin pages.
public enum AgentRole: String, Sendable, Codable, CaseIterable {
    case admin, agent
}

/// The languages of the console.
public enum ConsoleLocale: String, Sendable, Codable, CaseIterable {
    case en, ja
}

/// Every outcome the processing log names: what became of an inbound mail (the first five, stored
/// in `inbound.outcome`), a mail still waiting, and what a mailbox saw that did not become an
/// inbound mail of its own (stored in `mailboxEvent.outcome`).
public enum InboundOutcome: String, Sendable, Codable, CaseIterable {
    /// A new request.
    case created
    /// A comment on an existing request.
    case commented
    /// Not turned into anything, with the reason (automatic, not a customer, blocked, loop).
    case ignored
    /// Held by the per-sender rate breaker until an admin releases or drops it.
    case held
    /// Processing failed or was quarantined; the mail is kept and can be retried.
    case failed
    /// Stored and waiting to be processed.
    case pending
    /// The same mail again (same Message-ID and content), taken once.
    case duplicate
    /// Left in the mailbox: read before postdesk fetched it, or too large.
    case skipped
}

/// Where a notification stands: waiting to be sent (or retried), taken by the relay, or given up.
public enum OutboxStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting for its next attempt at `nextAttemptAt`.
    case pending
    /// The relay accepted it for at least one recipient.
    case sent
    /// Given up: a permanent refusal, or the retry policy ran out; `outbox retry` sets it pending again.
    case failed
    /// Held by the per-recipient limit (a loop or a flood of comments): `outbox release` sends it,
    /// `outbox drop` gives it up.
    case held
}

/// The identity provider an OAuth 2.0 app is registered with: a preset fills in its endpoints and
/// scopes, `custom` takes them from the admin.
public enum OAuthProvider: String, Sendable, Codable, CaseIterable {
    /// Microsoft Entra ID (Microsoft 365, Outlook.com).
    case microsoft
    /// Google Cloud (Gmail, Google Workspace).
    case google
    /// Any standard OAuth 2.0 server, with its endpoints given.
    case custom
}

/// What an outbound webhook is told about: the closed set of events the store's triggers write deliveries for.
public enum WebhookEvent: String, Sendable, Codable, CaseIterable, Comparable {
    /// A request was created from a mail.
    case requestCreated = "request.created"
    /// A comment was added to a request (an agent's, public or internal, or a customer's reply).
    case commentAdded = "comment.added"
    /// A request's status, assignee, summary, description or request type changed.
    case requestUpdated = "request.updated"

    public static func < (lhs: WebhookEvent, rhs: WebhookEvent) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// The mails postdesk sends a customer about their request.
public enum NotificationKind: String, Sendable, Codable, CaseIterable {
    /// The acknowledgement of a new request (off unless the project turns it on).
    case received
    /// An agent's public comment.
    case comment
    /// The request was resolved; a reply opens it again.
    case resolved
}

/// How the user signs in for a grant.
public enum OAuthSignIn: String, Sendable, Codable, CaseIterable {
    /// The device authorization grant (RFC 8628): a code entered at an address, on any device.
    case device
    /// Authorization code with PKCE (RFC 7636) through a browser, redirected to the CLI's loopback listener.
    case browser
}

/// What a mailbox is doing, as `postdesk status`, `/v1/health` and `channel verify` name it.
public enum MailboxState: String, Sendable, Codable, CaseIterable {
    case starting, idle, fetching
    case backingOff = "backing-off"
    case needsAttention = "needs-attention"
    case stopped

    /// Whether the mailbox cannot be read now (failing and waiting, or waiting for an admin).
    public var isFailing: Bool { self == .backingOff || self == .needsAttention }
}

/// Where a webhook delivery stands; the same life as a notification in the outbox.
public enum WebhookDeliveryStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting for its next attempt at `nextAttemptAt`.
    case pending
    /// The receiver answered 2xx.
    case sent
    /// Given up: the receiver refused it for good (a 4xx other than 408 and 429) or the retry policy ran out;
    /// `webhook retry` sets it pending again.
    case failed
}

/// What the SMTP relay is doing, as `postdesk status` and `/v1/health` name it.
public enum RelayState: String, Sendable, Codable, CaseIterable {
    /// Notifications wait but no relay is set.
    case notConfigured = "not-configured"
    /// Not contacted since the server started (nothing was due).
    case untried
    /// The last session worked.
    case ok
    /// The relay cannot be used; the outbox is held, attempts are not counted, and the relay is retried with
    /// backoff (or at once after `postdesk smtp set`).
    case failing
}
