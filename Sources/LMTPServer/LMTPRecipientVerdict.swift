/// The owner's answer to one RCPT TO, sent at once (RFC 2033 §4.2 keeps RCPT replies per recipient).
public enum LMTPRecipientVerdict: Sendable, Hashable {
    /// `250 2.1.5`: the message will be taken for this address.
    case accepted
    /// `550 5.1.1`: no mailbox here has this address (RFC 3463 §3.2 "bad destination mailbox address").
    case unknownRecipient
    /// `451 4.3.0`: the address cannot be checked now; the client tries again later.
    case temporaryFailure

    /// The reply sent for `address`.
    func reply(for address: String) -> LMTPReply {
        switch self {
        case .accepted: LMTPReply(250, "2.1.5", "<\(address)> recipient ok")
        case .unknownRecipient: LMTPReply(550, "5.1.1", "<\(address)> no such mailbox here")
        case .temporaryFailure: LMTPReply(451, "4.3.0", "<\(address)> cannot be checked now; try again later")
        }
    }
}
