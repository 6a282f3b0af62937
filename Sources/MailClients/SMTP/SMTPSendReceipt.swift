/// What the relay said about one sent message.
public struct SMTPSendReceipt: Sendable, Hashable {
    /// The reply to the end of DATA, e.g. `250 2.0.0 Ok: queued as 4F2A1`.
    public var finalReply: SMTPReply
    /// Recipients the relay accepted with RCPT TO, in the order given.
    public var acceptedRecipients: [String]
    /// Recipients the relay refused, with its reply for each.
    public var rejectedRecipients: [SMTPRecipientRejection]

    /// Creates a receipt.
    public init(finalReply: SMTPReply, acceptedRecipients: [String], rejectedRecipients: [SMTPRecipientRejection]) {
        self.finalReply = finalReply
        self.acceptedRecipients = acceptedRecipients
        self.rejectedRecipients = rejectedRecipients
    }

    /// The final reply code (250).
    public var replyCode: Int { finalReply.code }
    /// The final reply as the server sent it, for the outbox's attempt log.
    public var serverText: String { finalReply.verbatim }
}

/// One recipient the relay refused at RCPT TO, and its reply (e.g. `550 5.1.1 unknown user`).
public struct SMTPRecipientRejection: Sendable, Hashable {
    /// The address as given to `send`.
    public var address: String
    /// The server's reply to its RCPT TO.
    public var reply: SMTPReply

    /// Creates a rejection record.
    public init(address: String, reply: SMTPReply) {
        self.address = address
        self.reply = reply
    }
}
