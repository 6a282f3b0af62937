/// What the owner of an LMTP server decides: whether an address is taken, and what became of a message for each of
/// its recipients. Called from one connection at a time in order; different connections call concurrently.
public protocol LMTPDeliveryHandler: Sendable {
    /// The verdict on one RCPT TO address (as the client wrote it, without angle brackets).
    func recipient(_ address: String) async -> LMTPRecipientVerdict

    /// Stores a message; returns one result per `delivery.recipients`, in that order. Return `.delivered` only once
    /// the message is stored for good: the client forgets it on that answer.
    func deliver(_ delivery: LMTPDelivery) async -> [LMTPDeliveryResult]
}
