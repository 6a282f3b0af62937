import Foundation

/// What the SMTP relay is doing, as the notifier last saw it: shown by `postdesk status` and `/v1/health`.
public struct RelayStatus: Sendable, Equatable {
    /// The relay's state.
    public enum State: String, Sendable, Codable, CaseIterable {
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

    public var state: State
    /// When the current state began: the first failure of a failing streak, the first success after one.
    public var since: Date?
    /// When the relay last took a notification.
    public var lastDeliveryAt: Date?
    /// Failed sessions in a row.
    public var failures: Int
    /// When the relay is tried again, while failing.
    public var retryAt: Date?
    /// The relay's words, our reading and the fix, while failing or not configured.
    public var diagnosis: RelayDiagnosis?
    /// Notifications the relay took whose sending the store could not record yet: they are not sent again,
    /// and recording is retried with backoff.
    public var unrecordedDeliveries: Int

    /// A status.
    public init(
        state: State, since: Date? = nil, lastDeliveryAt: Date? = nil, failures: Int = 0, retryAt: Date? = nil,
        diagnosis: RelayDiagnosis? = nil, unrecordedDeliveries: Int = 0
    ) {
        self.state = state
        self.since = since
        self.lastDeliveryAt = lastDeliveryAt
        self.failures = failures
        self.retryAt = retryAt
        self.diagnosis = diagnosis
        self.unrecordedDeliveries = unrecordedDeliveries
    }
}
