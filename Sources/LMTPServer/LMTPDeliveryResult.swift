/// What became of the message for one accepted recipient: the reply after DATA (RFC 2033 §4.2).
public enum LMTPDeliveryResult: Sendable, Hashable {
    /// `250 2.0.0`: the message is stored for good; the client may forget it.
    case delivered
    /// `451 4.3.0`: the message could not be stored; the client keeps it and retries.
    case temporaryFailure
    /// `550 5.1.1`: the address went away between RCPT and the end of DATA.
    case unknownRecipient

    /// The reply sent for `address`.
    func reply(for address: String) -> LMTPReply {
        switch self {
        case .delivered: LMTPReply(250, "2.0.0", "<\(address)> message stored")
        case .temporaryFailure: LMTPReply(451, "4.3.0", "<\(address)> message not stored; try again later")
        case .unknownRecipient: LMTPReply(550, "5.1.1", "<\(address)> no such mailbox here")
        }
    }
}
