// EmailChannel owns the runtime that moves mail: one MailboxActor per linked mailbox, the
// RequestRouter that reads stored mail and hands it to ServiceDesk to decide (admission, threading
// and the rate breaker live there, in one transaction), the Notifier that empties the outbox, and
// the ChannelSupervisor that runs them. It holds no domain rules (ServiceDesk) and no wire formats
// (MailClients, MailMessage).

/// Exponential backoff with jitter, as a pure function of the attempt number (valkey-swift's
/// shape): the delay before retry `attempt` (1-based), or nil when it is time to give up.
public struct RetryPolicy: Sendable, Equatable {
    public var base: Duration
    public var maximum: Duration
    /// Give up after this many attempts; nil retries for ever.
    public var maxAttempts: Int?
    /// Fraction of the delay that is randomised (0…1), so that many channels do not retry in step.
    public var jitter: Double

    public init(base: Duration, maximum: Duration, maxAttempts: Int? = nil, jitter: Double = 0.2) {
        self.base = base
        self.maximum = maximum
        self.maxAttempts = maxAttempts
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay before retry `attempt`, with `random` in 0..<1 choosing the jitter.
    public func delay(forAttempt attempt: Int, random: Double = Double.random(in: 0..<1)) -> Duration? {
        if let maxAttempts, attempt > maxAttempts { return nil }
        let exponent = min(max(attempt - 1, 0), 30)
        let raw = base * (1 << exponent)
        let capped = raw > maximum ? maximum : raw
        let factor = 1 - jitter + 2 * jitter * min(max(random, 0), 1)
        return capped * factor
    }

    /// Mailbox connections: 2 s doubling up to 5 minutes, for ever.
    public static let mailbox = RetryPolicy(base: .seconds(2), maximum: .seconds(300))
    /// Notifications: 30 s doubling up to an hour, 12 attempts (about 8 hours) before giving up.
    public static let notification = RetryPolicy(base: .seconds(30), maximum: .seconds(3600), maxAttempts: 12)
    /// The SMTP relay as a whole, while the outbox is held: 30 s doubling up to 15 minutes, for ever.
    public static let relay = RetryPolicy(base: .seconds(30), maximum: .seconds(900))
    /// Recording a delivery the store refused to record: 1 s doubling up to a minute, for ever.
    public static let recording = RetryPolicy(base: .seconds(1), maximum: .seconds(60))
}
