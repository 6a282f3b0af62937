/// What the server made of one mail transaction (RFC 5321 §3.3: MAIL, RCPT…, DATA) in an open session.
///
/// Refusals are facts, not errors: after one the session is still usable for the next message (RSET was sent
/// where RFC 5321 §4.1.1.5 calls for it), except after `.serverClosing`.
public enum SMTPTransactionOutcome: Sendable, Hashable {
    /// The server took the message for the accepted recipients; the receipt lists the refused ones.
    case accepted(SMTPSendReceipt)
    /// MAIL FROM was refused (e.g. `553 5.7.1 sender not owned by user`, or `552` for a message over SIZE).
    case senderRefused(SMTPReply)
    /// Every RCPT TO was refused, each with its reply.
    case recipientsRefused([SMTPRecipientRejection])
    /// The DATA command was refused; `rejectedRecipients` were refused before it.
    case dataRefused(SMTPReply, rejectedRecipients: [SMTPRecipientRejection])
    /// The message content was refused after the final dot; `rejectedRecipients` were refused before DATA.
    case contentRefused(SMTPReply, rejectedRecipients: [SMTPRecipientRejection])
    /// The server answered 421 to a command of the transaction: it is closing the session (RFC 5321 §3.8), and
    /// nothing about this message was decided.
    case serverClosing(SMTPReply)
    /// The message cannot be sent as given (an address that would break the command line, or a non-ASCII address
    /// to a server without SMTPUTF8); nothing was sent.
    case unsendable(String)

    /// The refusing reply (for `.recipientsRefused`, the last recipient's); nil when accepted or unsendable.
    public var refusal: SMTPReply? {
        switch self {
        case .accepted, .unsendable: nil
        case .senderRefused(let reply), .dataRefused(let reply, _), .contentRefused(let reply, _),
            .serverClosing(let reply):
            reply
        case .recipientsRefused(let rejections): rejections.last?.reply
        }
    }
}
