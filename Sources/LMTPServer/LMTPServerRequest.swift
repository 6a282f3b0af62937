/// What the connection handler asks of the session's owner; exactly one is outstanding at a time.
enum LMTPServerRequest: Sendable {
    case recipient(String)
    case delivery(LMTPDelivery)
}

/// The owner's answer to the outstanding `LMTPServerRequest`.
enum LMTPServerAnswer: Sendable {
    case recipient(LMTPRecipientVerdict)
    case delivery([LMTPDeliveryResult])
}

/// Tells a connection handler (as a user outbound event) that the server is shutting down: it finishes what is in
/// flight and then says 421.
struct LMTPDrainEvent: Sendable {}
