import GRDB

/// Every outcome the processing log names: what became of an inbound mail (the first five, stored
/// in `inbound.outcome`), a mail still waiting, and what a mailbox saw that did not become an
/// inbound mail of its own (stored in `mailboxEvent.outcome`).
public enum InboundOutcome: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
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
