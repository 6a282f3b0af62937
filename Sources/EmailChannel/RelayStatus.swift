import Foundation
import PostdeskWire

/// What the SMTP relay is doing, as the notifier last saw it: shown by `postdesk status` and `/v1/health`.
public struct RelayStatus: Sendable, Equatable {
    /// The relay's state (PostdeskWire's `RelayState`).
    public typealias State = RelayState

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
